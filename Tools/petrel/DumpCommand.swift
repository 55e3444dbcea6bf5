import ArgumentParser
import Foundation
import PetrelFormat
import PetrelRepair

/// `petrel dump`: prints the batches (and optionally records) of files holding RecordBatch v2
/// data laid end to end, such as Kafka `.log` segments. Read-only.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print log segments, indexes, transaction indexes, producer snapshots and checkpoints, like kafka-dump-log.",
        discussion: """
            A file's kind comes from its name: .index, .timeindex, .txnindex, .snapshot, *-checkpoint, \
            partition.metadata; anything else is read as RecordBatch v2 batches laid end to end (a .log \
            segment). Every batch is checked (magic, length, CRC32C, counts); the dump stops at the \
            first invalid batch of a file and reports its byte position. --verify-index checks a \
            segment's offset and time index against it. With --records, the records of a segment in a \
            __consumer_offsets-N or __transaction_state-N directory are also shown decoded (offset \
            commits, group metadata, transaction states; tombstones as such), or raw with the reason \
            when one does not decode. With --json, one JSON object per batch or entry per line; keys, \
            values and header values are hex strings (null stays null), decoded internal records a \
            "decoded" object or a "decodeError". Exit status: 0 \
            when everything is valid, 1 when a file holds an invalid batch or index, 2 when a file \
            cannot be read.
            """
    )

    @Argument(help: "Segment files to dump.")
    var files: [String]

    @Flag(help: "Print every record, not only batch headers.")
    var records = false

    @Flag(help: "Print JSON lines instead of text.")
    var json = false

    @Flag(help: "For segments: check the offset and time index beside each against it.")
    var verifyIndex = false

    func run() throws {
        var status: Int32 = 0
        for file in files {
            let data: Data
            do {
                data = try Self.readableFile(file)
            } catch {
                printError("petrel dump: cannot read \(file): \(error)")
                status = max(status, 2)
                continue
            }
            if !json { print("Dumping \(file)") }
            let kind = DumpFiles.kind(of: file)
            if case .log = kind {
                let valid = data.withUnsafeBytes { dump(file: file, buffer: $0) }
                if !valid { status = max(status, 1) }
                if verifyIndex {
                    let findings = LogDirectoryChecker.verifyIndexes(ofSegment: file)
                    for finding in findings { print(json ? jsonFinding(finding) : finding.line) }
                    if !json && findings.isEmpty { print("indexes agree with the log") }
                    if findings.contains(where: { $0.severity == .error }) { status = max(status, 1) }
                }
            } else {
                let lines = DumpFiles.lines(for: file, kind: kind, data: data, json: json)
                for line in lines { print(line) }
                if lines.contains(where: { $0.contains("\"error\"") || $0.hasPrefix("error:") }) { status = max(status, 1) }
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    /// The file's bytes, mapped; a directory, a device or a missing file is said as such
    /// (Foundation's own messages for them are misleading: "permission" for /dev/null).
    static func readableFile(_ file: String) throws -> Data {
        var status = stat()
        guard stat(file, &status) == 0 else { throw Unreadable(description: String(cString: strerror(errno))) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Unreadable(description: "it is a directory: dump takes files (a segment's .log, .index, ...); `petrel fsck` checks directories")
        default: throw Unreadable(description: "it is not a regular file")
        }
        guard status.st_size > 0 else { return Data() }
        do { return try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) } catch let error as CocoaError {
            throw Unreadable(description: (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? error.localizedDescription)
        }
    }

    /// Prints every batch of one file; false when it stopped at an invalid batch.
    private func dump(file: String, buffer: UnsafeRawBufferPointer) -> Bool {
        var reader = RecordBatchReader(buffer)
        // Data records of the coordinators' topics are shown decoded; markers are not theirs.
        let internalTopic = InternalRecordFormatting.Topic(segmentPath: file)
        do {
            while let batch = try reader.next() {
                let decoded = records ? try batch.decodeRecords() : nil
                let topic = batch.isControl ? nil : internalTopic
                print(json ? jsonLine(file: file, batch: batch, records: decoded, topic: topic) : textLines(batch: batch, records: decoded, topic: topic))
            }
            return true
        } catch {
            if json {
                let report: [String: Any] = ["file": file, "position": error.position, "error": error.description]
                print(String(decoding: try! JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print("invalid batch in \(file): \(error)")
            }
            return false
        }
    }

    private func textLines(batch: RecordBatch, records: [DecodedRecord]?, topic: InternalRecordFormatting.Topic?) -> String {
        var text = "baseOffset: \(batch.baseOffset) lastOffset: \(batch.lastOffset) count: \(batch.recordsCount)"
        text += " position: \(batch.position) size: \(batch.sizeBytes) magic: \(batch.magic)"
        text += " compresscodec: \(batch.compressionCodec) crc: \(batch.crc) isvalid: true"
        text += " baseTimestamp: \(batch.baseTimestamp) maxTimestamp: \(batch.maxTimestamp)"
        text += " producerId: \(batch.producerId) producerEpoch: \(batch.producerEpoch) baseSequence: \(batch.baseSequence)"
        text += " partitionLeaderEpoch: \(batch.partitionLeaderEpoch) isTransactional: \(batch.isTransactional)"
        text += " isControl: \(batch.isControl)"
        for record in records ?? [] {
            text += "\n| " + (topic.map { InternalRecordFormatting.text(record, topic: $0) } ?? RecordFormatting.text(record))
        }
        return text
    }

    private func jsonLine(file: String, batch: RecordBatch, records: [DecodedRecord]?, topic: InternalRecordFormatting.Topic?) -> String {
        let object: [String: Any] = [
            "file": file, "position": batch.position, "sizeBytes": batch.sizeBytes,
            "baseOffset": batch.baseOffset, "lastOffset": batch.lastOffset, "recordsCount": batch.recordsCount,
            "magic": batch.magic, "crc": batch.crc, "compression": batch.compressionCodec.description,
            "timestampType": batch.timestampType == .createTime ? "CreateTime" : "LogAppendTime",
            "baseTimestamp": batch.baseTimestamp, "maxTimestamp": batch.maxTimestamp,
            "producerId": batch.producerId, "producerEpoch": batch.producerEpoch, "baseSequence": batch.baseSequence,
            "partitionLeaderEpoch": batch.partitionLeaderEpoch,
            "isTransactional": batch.isTransactional, "isControl": batch.isControl,
        ]
        var line = Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        if let records {
            // The records are written by hand (a serializer is too slow for millions of them).
            line.removeLast()  // the closing brace
            line.append(contentsOf: #","records":["#.utf8)
            for (index, record) in records.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                if let topic { InternalRecordFormatting.appendJSON(record, topic: topic, to: &line) } else { record.appendJSON(to: &line) }
            }
            line.append(contentsOf: "]}".utf8)
        }
        return String(decoding: line, as: UTF8.self)
    }
}

private func jsonFinding(_ finding: Finding) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(finding)) ?? Data(), as: UTF8.self)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
