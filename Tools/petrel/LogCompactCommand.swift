import ArgumentParser
import Foundation
import PetrelStorage

#if canImport(Glibc)
import Glibc
#endif

/// `petrel log compact`: cleans one partition now, offline, as the broker's cleaner would.
struct LogCompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Compact a partition log now: keep the last record of every key (offline, no broker).",
        discussion: """
            Opens the data directory (finishing or rolling back a compaction a crash interrupted), \
            then runs cleaning passes until the whole log below its active segment is clean: \
            several when the offset map (--dedupe-buffer-size) cannot hold every key at once. \
            Tombstones stay until --delete-retention-ms after the pass that first kept them. \
            Prints one JSON line per pass. Refuses a directory a broker holds. \
            --max-passes 0 only opens and closes the directory (recovering it).
            """
    )

    @OptionGroup var location: LogCommand.Location

    @Option(help: "segment.bytes: cleaned segments are merged up to this size.")
    var segmentBytes: Int = LogConfig().segmentBytes

    @Option(help: "delete.retention.ms: how long a tombstone stays after it was first cleaned.")
    var deleteRetentionMs: Int64 = LogConfig().deleteRetentionMs

    @Option(help: "log.cleaner.dedupe.buffer.size: memory of the offset map, in bytes.")
    var dedupeBufferSize: Int = 16 << 20

    @Option(help: "Passes to run at most.")
    var maxPasses: Int = 10_000

    @Option(help: "The time the passes run at, in epoch milliseconds (default: now).")
    var nowMs: Int64?

    func validate() throws {
        guard dedupeBufferSize >= 1 << 20 else { throw ValidationError("--dedupe-buffer-size must be at least 1 MiB") }
        guard maxPasses >= 0 else { throw ValidationError("--max-passes cannot be negative") }
    }

    func run() throws {
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = segmentBytes
        config.deleteRetentionMs = deleteRetentionMs
        do { config = try config.validated() } catch { throw ValidationError("\(error)") }
        let manager = try LogManager(dataDirectory: location.dataDir, defaultConfig: config)
        guard manager.log(for: location.topicPartition) != nil else {
            try manager.close()
            throw ValidationError("no partition \(location.topicPartition) in \(location.dataDir)")
        }
        var cleanerConfig = LogCleanerConfig()
        cleanerConfig.dedupeBufferBytes = dedupeBufferSize
        let cleaner = try manager.startCleaner(config: cleanerConfig, hooks: Self.crashHooks(), threads: false)
        let map = OffsetMap(memoryBytes: dedupeBufferSize)
        let now = nowMs ?? Int64(Date().timeIntervalSince1970 * 1000)
        var passes = 0
        while passes < maxPasses, let result = try cleaner.clean(location.topicPartition, nowMs: now, map: map) {
            passes += 1
            let line: [String: Any] = [
                "pass": passes, "firstDirtyOffset": result.firstDirtyOffset, "endOffset": result.endOffset,
                "offsetMapFilled": result.offsetMapFilled, "dirtyBytesRead": result.dirtyBytesRead, "bytesRead": result.bytesRead,
                "bytesWritten": result.bytesWritten, "segmentsCleaned": result.segmentsCleaned, "recordsRemoved": result.recordsRemoved,
                "tombstonesRemoved": result.tombstonesRemoved, "aborted": result.abortedBecause ?? NSNull(),
                "peakRSSBytes": Self.peakRSSBytes(),
            ]
            let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            FileHandle.standardOutput.write(json + Data("\n".utf8))
            if !result.offsetMapFilled || result.abortedBecause != nil { break }
        }
        try manager.close()
    }

    /// The process's peak resident memory so far (`VmHWM`), for `petrel bench`'s memory figure.
    /// Not getrusage's `ru_maxrss`: on Linux that keeps the peak of the process image before
    /// `exec`, which for a child of a large parent is the parent's.
    static func peakRSSBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }

    /// For crash tests: `PETREL_CLEANER_KILL_AT=<step>` (a `CleanerStep` name) kills the process
    /// with SIGKILL when a pass reaches that step, leaving the files as a crash there would.
    static func crashHooks() -> CleanerHooks? {
        guard let name = ProcessInfo.processInfo.environment["PETREL_CLEANER_KILL_AT"] else { return nil }
        guard let target = CleanerStep(rawValue: name) else {
            printError("petrel log compact: PETREL_CLEANER_KILL_AT=\(name) is not a step: \(CleanerStep.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return CleanerHooks { (step, _) throws(StorageError) in
            if step == target { kill(getpid(), SIGKILL) }
        }
    }
}

/// `petrel log delete-records`: Kafka's DeleteRecords on a partition, offline.
struct LogDeleteRecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-records",
        abstract: "Move a partition's log start offset up, deleting the segments wholly below it (offline, no broker).",
        discussion: "Prints the new log start offset (the low watermark). Against a running broker, use a Kafka admin client's deleteRecords."
    )

    @OptionGroup var location: LogCommand.Location

    @Option(help: "Records below this offset are deleted; -1: every record (the log end).")
    var before: Int64

    func run() throws {
        let manager = try LogManager(dataDirectory: location.dataDir)
        guard let log = manager.log(for: location.topicPartition) else {
            try manager.close()
            throw ValidationError("no partition \(location.topicPartition) in \(location.dataDir)")
        }
        let target = before == -1 ? log.logEndOffset : before
        guard target >= 0, target <= log.logEndOffset else {
            try manager.close()
            throw ValidationError("--before \(before) is outside the log [\(log.logStartOffset), \(log.logEndOffset)]")
        }
        try log.deleteRecords(before: target)
        print(log.logStartOffset)
        try manager.close()
    }
}
