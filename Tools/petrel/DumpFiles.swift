import Foundation
import PetrelFormat
import PetrelRepair
import PetrelStorage

/// `petrel dump` for the files beside the segments: indexes, transaction indexes, producer
/// snapshots, checkpoints and partition.metadata. Each prints one line (or JSON object) per entry.
enum DumpFiles {
    enum Kind {
        case offsetIndex(base: Int64), timeIndex(base: Int64), transactionIndex, producerSnapshot, checkpoint, partitionMetadata, log
    }

    static func kind(of path: String) -> Kind {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.offsetIndexSuffix) { return .offsetIndex(base: base) }
        if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.timeIndexSuffix) { return .timeIndex(base: base) }
        if name.hasSuffix(".txnindex") { return .transactionIndex }
        if name.hasSuffix(".snapshot") { return .producerSnapshot }
        if name.hasSuffix("-checkpoint") { return .checkpoint }
        if name == PartitionMetadataFile.name { return .partitionMetadata }
        return .log
    }

    /// Lines (text or JSON) for a non-log file; nil entries mark a malformed tail.
    static func lines(for path: String, kind: Kind, data: Data, json: Bool) -> [String] {
        func out(_ fields: KeyValuePairs<String, Any>) -> String {
            if json {
                var object: [String: Any] = ["file": path]
                for (key, value) in fields { object[key] = value }
                return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            return fields.map { "\($0.key): \($0.value)" }.joined(separator: " ")
        }
        func int16(_ at: Int) -> Int16 { data.withUnsafeBytes { Int16(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: Int16.self)) } }
        func int32(_ at: Int) -> Int32 { data.withUnsafeBytes { Int32(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: Int32.self)) } }
        func int64(_ at: Int) -> Int64 { data.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(fromByteOffset: at, as: Int64.self)) } }
        var lines: [String] = []
        func entries(size: Int, _ line: (Int) -> String) {
            for at in stride(from: 0, to: data.count - data.count % size, by: size) { lines.append(line(at)) }
            if data.count % size != 0 { lines.append(out(["error": "\(data.count % size) trailing bytes: not a whole \(size)-byte entry"])) }
        }
        switch kind {
        case let .offsetIndex(base):
            entries(size: 8) { out(["offset": base + Int64(int32($0)), "position": int32($0 + 4)]) }
        case let .timeIndex(base):
            entries(size: 12) { out(["timestamp": int64($0), "offset": base + Int64(int32($0 + 8))]) }
        case .transactionIndex:
            entries(size: 34) {
                out(["version": int16($0), "producerId": int64($0 + 2), "firstOffset": int64($0 + 10), "lastOffset": int64($0 + 18),
                     "lastStableOffset": int64($0 + 26)])
            }
        case .producerSnapshot:
            guard data.count >= 10 else { return [out(["error": "shorter than the 10-byte header"])] }
            let computed = data.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[6...])) }
            lines.append(out(["version": int16(0), "crc": UInt32(bitPattern: int32(2)), "crcValid": computed == UInt32(bitPattern: int32(2)),
                              "producers": int32(6)]))
            for at in stride(from: 10, to: data.count - (data.count - 10) % 46, by: 46) {
                lines.append(out(["producerId": int64(at), "producerEpoch": int16(at + 8), "lastSequence": int32(at + 10),
                                  "lastOffset": int64(at + 14), "offsetDelta": int32(at + 22), "timestamp": int64(at + 26),
                                  "coordinatorEpoch": int32(at + 34), "currentTxnFirstOffset": int64(at + 38)]))
            }
        case .checkpoint, .partitionMetadata:
            let text = String(decoding: data, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                lines.append(out(["line": number + 1, "text": String(line)]))
            }
        case .log:
            break
        }
        return lines
    }
}
