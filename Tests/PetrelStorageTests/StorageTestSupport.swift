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
        builder.append(key: Array("k\(index)".utf8), value: Array(expectedValue(tag: tag, index: index, valueBytes: valueBytes).utf8),
                       timestamp: timestamp + Int64(index))
    }
    return try! builder.build()
}

/// The value `makeBatch` gives record `index` of the batch tagged `tag`.
func expectedValue(tag: Int, index: Int, valueBytes: Int = 20) -> String {
    var value = Array("record \(tag)-\(index) ".utf8)
    while value.count < valueBytes { value.append(UInt8(97 + value.count % 26)) }
    return String(decoding: value, as: UTF8.self)
}

/// Results of appends made from several threads, by index.
final class AppendResults: Sendable {
    let slots = Locked<[Int: Result<AppendInfo, StorageError>]>([:])
    subscript(index: Int) -> Result<AppendInfo, StorageError>? { slots.withLock { $0[index] } }
}

/// Appends `batches`, each from its own thread, while the writer is parked in the first one's
/// pwritev: the first is written alone, every other one queues behind it and they are written
/// as one group once the write is released. Returns each append's result, in order.
func appendAsOneGroupBehindAParkedWrite(_ log: Log, io: FaultInjectingFileIO, batches: [[UInt8]]) -> [Result<AppendInfo, StorageError>] {
    let results = AppendResults()
    let group = DispatchGroup()
    func start(_ index: Int) {
        group.enter()
        Thread {
            let result = Result { () throws(StorageError) -> AppendInfo in try log.append(batches[index]) }
            results.slots.withLock { $0[index] = result }
            group.leave()
        }.start()
    }
    io.parkNextWrite()
    start(0)
    io.waitUntilWriteParked()
    for index in 1..<batches.count { start(index) }
    // Waits for the appender threads to queue (each takes the queue lock once), not for time.
    while log.queuedAppendCount < batches.count - 1 { sched_yield() }
    io.releaseParkedWrite()
    group.wait()
    return (0..<batches.count).map { results[$0]! }
}

/// How many one-record `makeBatch(tag:)` appends the first segment holds under `config`: found
/// by a dry run, rolls depend only on sizes.
func appendsBeforeFirstRoll(config: LogConfig) throws -> Int {
    let directory = TemporaryDirectory()
    let (log, _) = try Log.open(directory: directory.path + "/dry-0", config: config)
    var appended = 0
    while log.segmentCount == 1 {
        try log.append(makeBatch(count: 1, tag: appended))
        appended += 1
    }
    return appended - 1
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
