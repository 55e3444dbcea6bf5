import Foundation
import PetrelRepair
import PetrelStorage

/// `petrel dump` for the files beside the segments: indexes, transaction indexes, producer
/// snapshots, checkpoints and partition.metadata. Each prints one line (or JSON object) per entry.
enum DumpFiles {
    enum Kind {
        case offsetIndex(base: Int64), timeIndex(base: Int64), transactionIndex, producerSnapshot, checkpoint, partitionMetadata, topics, log
    }

    static func kind(of path: String) -> Kind {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.offsetIndexSuffix) { return .offsetIndex(base: base) }
        if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.timeIndexSuffix) { return .timeIndex(base: base) }
        if name.hasSuffix(SegmentFiles.transactionIndexSuffix) { return .transactionIndex }
        if name.hasSuffix(SegmentFiles.snapshotSuffix) { return .producerSnapshot }
        if name.hasSuffix("-checkpoint") { return .checkpoint }
        if name == PartitionFiles.partitionMetadata { return .partitionMetadata }
        if name == BrokerStateFiles.topicsName { return .topics }
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
        var lines: [String] = []
        /// One line per whole entry, decoded by the storage's codec from the entry's first byte.
        func entries(size: Int, _ line: (UnsafeRawPointer) -> String) {
            data.withUnsafeBytes { bytes in
                for at in stride(from: 0, to: data.count - data.count % size, by: size) { lines.append(line(bytes.baseAddress! + at)) }
            }
            if data.count % size != 0 { lines.append(out(["error": "\(data.count % size) trailing bytes: not a whole \(size)-byte entry"])) }
        }
        switch kind {
        case let .offsetIndex(base):
            entries(size: OffsetIndexEntry.bytes) {
                let entry = OffsetIndexEntry.decode($0)
                return out(["offset": base + Int64(entry.relativeOffset), "position": entry.position])
            }
        case let .timeIndex(base):
            entries(size: TimeIndexEntry.bytes) {
                let entry = TimeIndexEntry.decode($0)
                return out(["timestamp": entry.timestamp, "offset": base + Int64(entry.relativeOffset)])
            }
        case .transactionIndex:
            entries(size: TransactionIndexEntry.bytes) {
                let entry = TransactionIndexEntry(decoding: $0)
                return out(["version": entry.version, "producerId": entry.producerId, "firstOffset": entry.firstOffset,
                            "lastOffset": entry.lastOffset, "lastStableOffset": entry.lastStableOffset])
            }
        case .producerSnapshot:
            let bytes = [UInt8](data)
            guard let header = ProducerSnapshotFile.header(of: bytes) else {
                return [out(["error": "shorter than the \(ProducerSnapshotFile.headerBytes)-byte header"])]
            }
            lines.append(out(["version": header.version, "crc": header.storedCRC, "crcValid": header.computedCRC == header.storedCRC,
                              "producers": header.count]))
            for entry in ProducerSnapshotFile.entries(in: bytes) {
                lines.append(out(["producerId": entry.producerId, "producerEpoch": entry.producerEpoch, "lastSequence": entry.lastSequence,
                                  "lastOffset": entry.lastOffset, "offsetDelta": entry.offsetDelta, "timestamp": entry.timestamp,
                                  "coordinatorEpoch": entry.coordinatorEpoch, "currentTxnFirstOffset": entry.currentTransactionFirstOffset]))
            }
            // The engine's own rule: a snapshot it would ignore (and fsck reports) is an error here too.
            if let problem = ProducerSnapshotFile.problem(in: bytes) { lines.append(out(["error": problem])) }
        case .checkpoint, .partitionMetadata:
            let text = String(decoding: data, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                lines.append(out(["line": number + 1, "text": String(line)]))
            }
            if let problem = parseProblem(path, kind: kind) { lines.append(out(["error": problem])) }
        case .topics:
            // The broker's topic records, through the parser the broker and fsck use.
            do throws(StorageError) {
                for record in try BrokerStateFiles.topics(parsing: [UInt8](data), path: path) {
                    lines.append(out(["topic": record.name, "topicId": PartitionMetadataFile.encode(record.topicId), "partitions": record.partitions,
                                      "internal": record.isInternal, "state": record.state.rawValue,
                                      "configs": record.configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")]))
                }
            } catch {
                lines.append(out(["error": "\(error)"]))
            }
        case .log:
            break
        }
        return lines
    }

    /// Why the engine's parser refuses a checkpoint or `partition.metadata` (the broker would
    /// not start with it), or nil. Files of other formats (leader-epoch-checkpoint) are shown
    /// as text only.
    static func parseProblem(_ path: String, kind: Kind) -> String? {
        let url = URL(fileURLWithPath: path)
        do {
            switch kind {
            case .checkpoint where LogDirectoryFiles.offsetCheckpoints.contains(url.lastPathComponent):
                _ = try OffsetCheckpointFile(path: path).read()
            case .partitionMetadata:
                _ = try PartitionMetadataFile(directory: url.deletingLastPathComponent().path).read()
            default:
                break
            }
        } catch {
            return "\(error)"
        }
        return nil
    }
}
