import Foundation
import PetrelFormat
@_exported import PetrelTestSupport
@testable import PetrelStorage

/// A fresh temporary directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init(_ name: String = "petrel-test") {
        path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func files(in subdirectory: String = "") -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path + (subdirectory.isEmpty ? "" : "/" + subdirectory)))?.sorted() ?? []
    }
}

/// A batch of `count` records whose values say which record they are, as a producer sends it.
func makeBatch(count: Int = 1, valueBytes: Int = 20, timestamp: Int64 = 1_000, tag: Int = 0, compression: CompressionCodec = .none) -> [UInt8] {
    var builder = RecordBatchBuilder(compression: compression)
    for index in 0..<count {
        var value = Array("record \(tag)-\(index) ".utf8)
        while value.count < valueBytes { value.append(UInt8(97 + value.count % 26)) }
        builder.append(key: Array("k\(index)".utf8), value: value, timestamp: timestamp + Int64(index))
    }
    return try! builder.build()
}

func smallConfig(segmentBytes: Int = 4096, indexIntervalBytes: Int = 256, flushPolicy: FlushPolicy = .kafkaDefault) -> LogConfig {
    var config = LogConfig()
    config.segmentBytes = segmentBytes
    config.indexIntervalBytes = indexIntervalBytes
    config.segmentIndexBytes = 4096
    config.flushPolicy = flushPolicy
    return config
}

extension Log {
    /// Every record's (offset, value) in the log, read through the public API.
    func allValues() throws -> [(Int64, String)] {
        try readRecords(fromOffset: logStartOffset, maxRecords: .max).map { ($0.offset, String(decoding: $0.value ?? [], as: UTF8.self)) }
    }
}
