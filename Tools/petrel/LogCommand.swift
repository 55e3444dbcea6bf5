import ArgumentParser
import Foundation
import PetrelFormat
import PetrelStorage

/// `petrel log`: offline access to a data directory's partition logs, for people and scripts.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Append to, read, compact and trim partition logs in a data directory, without a broker.",
        subcommands: [Append.self, Read.self, LogCompactCommand.self, LogDeleteRecordsCommand.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The data directory (created if missing).")
        var dataDir: String

        @Option(help: "Topic name.")
        var topic: String

        @Option(help: "Partition number.")
        var partition: Int32 = 0

        func validate() throws {
            guard TopicPartition.isValidTopicName(topic) else {
                throw ValidationError("invalid topic name '\(topic)': use 1–249 of [a-zA-Z0-9._-]")
            }
            guard partition >= 0 else { throw ValidationError("the partition cannot be negative") }
        }

        var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    }

    enum FsyncMode: String, ExpressibleByArgument, CaseIterable {
        case beforeAck = "before-ack", interval, none

        var policy: FlushPolicy {
            switch self {
            case .beforeAck: .beforeAcknowledge
            case .interval: .interval(messages: .max, milliseconds: 1000)
            case .none: .kafkaDefault
            }
        }
    }

    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append one record per line of stdin; print each offset once acknowledged.",
            discussion: """
                Lines are grouped into batches of whatever has arrived (up to --batch-records). An \
                offset is printed, one per line, once its record is acknowledged under --fsync: \
                before-ack fsyncs before printing; interval fsyncs at most every second; none leaves \
                it to the page cache and to segment rolls (Kafka's default).
                """
        )

        @OptionGroup var location: Location

        @Option(help: "Durability before an offset is printed: before-ack, interval or none.")
        var fsync: FsyncMode = .beforeAck

        @Option(help: "Split each line at the first occurrence of this string into key and value.")
        var keySeparator: String?

        @Option(help: "Most records in one batch.")
        var batchRecords: Int = 500

        @Option(help: "Compression codec of the batches: none, gzip, snappy, lz4 or zstd.")
        var compression: String = "none"

        @Option(help: "A value exactly equal to this is written as a null value (a tombstone).")
        var tombstoneValue: String?

        @Option(help: "Segment size before a roll (segment.bytes) for a log this creates or opens.")
        var segmentBytes: Int = LogConfig().segmentBytes

        func validate() throws {
            guard batchRecords > 0 else { throw ValidationError("--batch-records must be positive") }
            guard CompressionCodec(name: compression) != nil else { throw ValidationError("unknown compression '\(compression)'") }
            if let keySeparator, keySeparator.isEmpty { throw ValidationError("--key-separator cannot be empty") }
        }

        func run() throws {
            var config = LogConfig()
            config.flushPolicy = fsync.policy
            config.segmentBytes = segmentBytes
            let manager = try LogManager(dataDirectory: location.dataDir, defaultConfig: config)
            let log = try manager.logCreatingIfMissing(for: location.topicPartition, config: config)
            manager.startBackgroundTasks()
            let lines = LineQueue(capacity: batchRecords * 4)
            Thread.detachNewThread {
                while let line = readLine(strippingNewline: true) { lines.put(line) }
                lines.finish()
            }
            let codec = CompressionCodec(name: compression)!
            while let group = lines.take(max: batchRecords) {
                var builder = RecordBatchBuilder(compression: codec)
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for line in group {
                    var key: [UInt8]?
                    var text = Substring(line)
                    if let keySeparator, let range = line.range(of: keySeparator) {
                        key = Array(line[..<range.lowerBound].utf8)
                        text = line[range.upperBound...]
                    }
                    let value: [UInt8]? = tombstoneValue.map { String(text) == $0 } == true ? nil : Array(text.utf8)
                    builder.append(key: key, value: value, timestamp: now)
                }
                let info = try log.append(try builder.build())
                var output = ""
                for offset in info.firstOffset...info.lastOffset { output += "\(offset)\n" }
                FileHandle.standardOutput.write(Data(output.utf8))
            }
            try manager.close()
        }
    }

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print records with offset, timestamp, key, value and headers.",
            discussion: "With --json: one object per line; key, value and header values are hex strings (null stays null)."
        )

        @OptionGroup var location: Location

        @Option(help: "First offset to print (default: the log start offset).")
        var fromOffset: Int64?

        @Option(help: "Most records to print.")
        var maxRecords: Int = .max

        @Flag(help: "Print JSON lines.")
        var json = false

        /// Reads the segment files directly and writes nothing: no lock, no recovery, no
        /// clean-shutdown marker touched, so it is safe beside a running broker. After an
        /// unclean shutdown it prints the valid prefix of each segment, and says where the
        /// first invalid batch is (recovery would cut there).
        func run() throws {
            let directory = "\(location.dataDir)/\(location.topicPartition.directoryName)"
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
                throw ValidationError("no partition \(location.topicPartition) in \(location.dataDir)")
            }
            let bases = names.compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: SegmentFiles.logSuffix) }.sorted()
            let checkpoint = "\(location.dataDir)/\(LogDirectoryFiles.logStartOffsetCheckpoint)"
            let logStart = FileManager.default.fileExists(atPath: checkpoint)
                ? try OffsetCheckpointFile(path: checkpoint).read()[location.topicPartition] : nil
            var next = max(fromOffset ?? .min, logStart ?? .min)
            var remaining = maxRecords
            var output: [UInt8] = []
            func flush() {
                FileHandle.standardOutput.write(Data(output))
                output.removeAll(keepingCapacity: true)
            }
            for (index, base) in bases.enumerated() where remaining > 0 {
                if index + 1 < bases.count, bases[index + 1] <= next { continue }
                let path = SegmentFiles.logPath(directory, base)
                let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
                let stop = try data.withUnsafeBytes { (bytes) throws -> (position: Int, reason: SegmentBatchWalker.Stop)? in
                    var walker = SegmentBatchWalker(bytes, baseOffset: base, minimumFirstOffset: base,
                                                    offsetLimit: index + 1 < bases.count ? bases[index + 1] : nil)
                    while remaining > 0, let batch = walker.next() {
                        guard batch.lastOffset >= next, !batch.isControl else { continue }
                        try batch.forEachRecord { record throws(FormatError) in
                            guard record.offset >= next, remaining > 0 else { return }
                            let decoded = DecodedRecord(record)
                            if json { decoded.appendJSON(to: &output) } else { output.append(contentsOf: RecordFormatting.text(decoded).utf8) }
                            output.append(UInt8(ascii: "\n"))
                            remaining -= 1
                        }
                        next = batch.nextOffset
                        if output.count >= 1 << 20 { flush() }
                    }
                    return walker.stop
                }
                if let stop {
                    flush()
                    printError("petrel log read: \(path) ends in an invalid batch at byte \(stop.position) (\(stop.reason)); the broker's recovery would cut it there")
                    break
                }
            }
            flush()
        }
    }
}

/// A bounded queue of input lines between the stdin reader thread and the appender.
final class LineQueue: @unchecked Sendable {
    // Safe: every field is touched only with `condition` locked.
    private let condition = NSCondition()
    private var lines: [String] = []
    private var finished = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func put(_ line: String) {
        condition.lock()
        while lines.count >= capacity { condition.wait() }
        lines.append(line)
        condition.broadcast()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whatever lines have arrived (at least one, at most `max`), or nil at the end of input.
    func take(max: Int) -> [String]? {
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !finished { condition.wait() }
        guard !lines.isEmpty else { return nil }
        let taken = Array(lines.prefix(max))
        lines.removeFirst(taken.count)
        condition.broadcast()
        return taken
    }
}

/// Record output shared by `petrel log read` and `petrel dump --records`.
enum RecordFormatting {
    static func text(_ record: DecodedRecord) -> String {
        var text = "offset: \(record.offset) timestamp: \(record.timestamp)"
        text += " key: \(ByteFormatting.text(record.key)) value: \(ByteFormatting.text(record.value))"
        if !record.headers.isEmpty {
            text += " headers: " + record.headers.map { "\($0.key)=\(ByteFormatting.text($0.value))" }.joined(separator: ",")
        }
        return text
    }

    static func json(_ record: DecodedRecord) -> String { record.json }
}
