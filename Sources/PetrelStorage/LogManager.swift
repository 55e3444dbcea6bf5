#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import Foundation

/// An entry of the data directory that start-up left alone, and why (Kafka ignores what is not
/// a partition directory).
public struct SkippedDirectoryEntry: Sendable, Equatable {
    public let name: String
    public let reason: String
}

/// The background thread's hand-shake with `LogManager.close()`.
private final class BackgroundTasks: Sendable {
    /// Signalled by `close()` to cut the thread's wait short.
    let wake = DispatchSemaphore(value: 0)
    /// Signalled by the thread as its very last action.
    let finished = DispatchSemaphore(value: 0)
    let stopping = Atomic<Bool>(false)
    let running = Atomic<Bool>(true)
}

/// The partition logs of one data directory (Kafka's `log.dirs` entry): opens them all at
/// start-up — fast after a clean shutdown, recovering after a crash — creates and deletes them,
/// and keeps the directory's checkpoints and clean-shutdown marker.
public final class LogManager: Sendable {
    // The clean-shutdown marker (`LogDirectoryFiles.cleanShutdownMarker`) is written last at
    // clean shutdown and deleted first at start-up (so a crash during start-up counts as
    // unclean next time), as Kafka does.

    public let dataDirectory: String
    public let defaultConfig: LogConfig
    let io: any FileIO
    /// Bounds the sealed segments holding mappings, across all logs.
    public let handleCache: SegmentHandleCache
    private let logs = Locked<[TopicPartition: Log]>([:])
    /// What opening each partition's log found (recovery, quarantine).
    public let recoveryReports: [TopicPartition: RecoveryReport]
    public let hadCleanShutdown: Bool
    /// Entries of the data directory named like partitions but not opened (a regular file named
    /// `zz-0`, say), and leftover temporary files removed, for operators.
    public let skippedEntries: [SkippedDirectoryEntry]
    private let background = Locked<BackgroundTasks?>(nil)
    /// The log cleaner, once started (`startCleaner`).
    private let cleanerSlot = Locked<LogCleaner?>(nil)
    /// The lock file's descriptor while held; -1 once released.
    private let lockDescriptor: Locked<Int32>

    /// Opens every partition directory in `dataDirectory` (created if missing).
    /// `configForTopic` gives the settings of each topic's logs (the owner keeps per-topic
    /// overrides); `defaultConfig` by default.
    public init(dataDirectory: String, defaultConfig: LogConfig = LogConfig(), io: any FileIO = SystemFileIO(),
                openSegmentsMax: Int = 1024, configForTopic: ((String) -> LogConfig)? = nil) throws(StorageError) {
        self.dataDirectory = dataDirectory
        self.handleCache = SegmentHandleCache(capacity: openSegmentsMax)
        self.defaultConfig = defaultConfig
        self.io = io
        if !io.exists(dataDirectory) {
            try io.mkdir(dataDirectory)
            // The new directory's own entry must survive a power loss too.
            try io.fsyncDirectory(parentDirectory(of: dataDirectory))
        }
        let lockPath = "\(dataDirectory)/\(LogDirectoryFiles.lock)"
        let descriptor = try io.open(lockPath, flags: O_RDWR | O_CREAT, mode: 0o644)
        guard try io.tryLockExclusive(descriptor, path: lockPath) else {
            io.close(descriptor)
            throw StorageError(.directoryInUse, path: lockPath)
        }
        lockDescriptor = Locked(descriptor)
        let marker = "\(dataDirectory)/\(LogDirectoryFiles.cleanShutdownMarker)"
        hadCleanShutdown = io.exists(marker)
        if hadCleanShutdown {
            try io.unlink(marker)
            try io.fsyncDirectory(dataDirectory)
        }
        var skipped: [SkippedDirectoryEntry] = []
        // A checkpoint that cannot be read counts as empty: recovery then starts from offset 0,
        // which costs time but loses nothing. It is reported (the broker logs skipped entries).
        func checkpoint(_ name: String) -> [TopicPartition: Int64] {
            do throws(StorageError) { return try OffsetCheckpointFile(path: "\(dataDirectory)/\(name)", io: io).read() } catch {
                skipped.append(SkippedDirectoryEntry(name: name, reason: "unreadable, so ignored (recovery starts from each log's first segment): \(error)"))
                return [:]
            }
        }
        let recoveryPoints = checkpoint(LogDirectoryFiles.recoveryPointCheckpoint)
        let logStartOffsets = checkpoint(LogDirectoryFiles.logStartOffsetCheckpoint)
        var opened: [TopicPartition: Log] = [:]
        var reports: [TopicPartition: RecoveryReport] = [:]
        var identities: [FileStatus: String] = [:]
        for name in try io.listDirectory(dataDirectory) {
            let path = "\(dataDirectory)/\(name)"
            if Self.atomicallyWrittenNames.contains(where: { name.hasPrefix($0 + ".") }) && name.hasSuffix(temporaryFileSuffix) {
                // What a crash left of a checkpoint or marker being written.
                try io.unlink(path)
                skipped.append(SkippedDirectoryEntry(name: name, reason: "leftover temporary file, removed"))
                continue
            }
            guard let partition = TopicPartition(directoryName: name) else { continue }
            // Followed through a symbolic link, as Kafka does (a partition moved to another disk),
            // but never the same directory twice: two logs over the same files would corrupt them.
            let status = try io.fileStatus(path, followingSymlink: true)
            guard status.kind == .directory else {
                skipped.append(SkippedDirectoryEntry(name: name, reason: "named like a partition but not a directory"))
                continue
            }
            let identity = FileStatus(kind: .directory, device: status.device, inode: status.inode)
            if let other = identities[identity] {
                throw StorageError(.duplicatePartitionDirectory(otherPath: other), path: path)
            }
            identities[identity] = path
            let (log, report) = try Log.open(
                directory: path, config: configForTopic?(partition.topic) ?? defaultConfig, io: io,
                recoveryPoint: recoveryPoints[partition] ?? 0, logStartOffset: logStartOffsets[partition] ?? 0,
                hadCleanShutdown: hadCleanShutdown, handleCache: handleCache)
            opened[partition] = log
            reports[partition] = report
        }
        logs.withLock { $0 = opened }
        recoveryReports = reports
        skippedEntries = skipped
    }

    /// Files of the data directory written with `writeFileAtomically`, whose temporary files
    /// (`<name>.<pid>.<counter>.tmp`) a crash may leave behind.
    static let atomicallyWrittenNames = [LogDirectoryFiles.recoveryPointCheckpoint, LogDirectoryFiles.logStartOffsetCheckpoint,
                                         LogDirectoryFiles.cleanShutdownMarker]

    public var partitions: [TopicPartition] { logs.withLock { $0.keys.sorted() } }

    public func log(for partition: TopicPartition) -> Log? { logs.withLock { $0[partition] } }

    /// Creates the log of a new partition.
    /// - Throws: `.alreadyExists` if it exists.
    /// `topicId` (16 bytes) goes to `partition.metadata`; a random one when nil.
    @discardableResult
    public func createLog(for partition: TopicPartition, topicId: [UInt8]? = nil, config: LogConfig? = nil) throws(StorageError) -> Log {
        try logs.withLock { (logs) throws(StorageError) -> Log in
            let path = "\(dataDirectory)/\(partition.directoryName)"
            guard logs[partition] == nil, !io.exists(path) else { throw StorageError(.alreadyExists, path: path) }
            try io.mkdir(path)
            // All or nothing: a partition whose creation fails half-way leaves no directory
            // behind (which would make every later attempt fail with "already exists").
            do throws(StorageError) {
                var generator = SystemRandomNumberGenerator()
                try PartitionMetadataFile(directory: path, io: io).write(topicId: topicId ?? (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
                let (log, _) = try Log.open(directory: path, config: config ?? defaultConfig, io: io, hadCleanShutdown: true,
                                            handleCache: handleCache)
                do throws(StorageError) { try io.fsyncDirectory(dataDirectory) } catch {
                    try? log.close()
                    throw error
                }
                logs[partition] = log
                return log
            } catch {
                removeDirectoryAfterFailedCreation(path)
                throw error
            }
        }
    }

    /// Best effort: the creation already failed with the error worth reporting; what cannot be
    /// removed here is a directory without data, which start-up opens as an empty log.
    private func removeDirectoryAfterFailedCreation(_ path: String) {
        if let names = try? io.listDirectory(path) {
            for name in names { try? io.unlink("\(path)/\(name)") }
        }
        try? io.rmdir(path)
    }

    /// The log of `partition`, created if missing.
    public func logCreatingIfMissing(for partition: TopicPartition, config: LogConfig? = nil) throws(StorageError) -> Log {
        if let log = log(for: partition) { return log }
        do throws(StorageError) {
            return try createLog(for: partition, config: config)
        } catch where error.code == .alreadyExists {
            if let log = log(for: partition) { return log }
            throw error
        }
    }

    /// Closes and deletes a partition's log: the directory is renamed `<name>.delete` first, so
    /// a crash half-way leaves something start-up ignores, then its files are removed. A
    /// cleaning pass of the log is waited for (and aborted) first.
    public func deleteLog(for partition: TopicPartition) throws(StorageError) {
        let cleaner = cleanerSlot.withLock { $0 }
        cleaner?.pauseCleaning(partition)
        defer { cleaner?.resumeCleaning(partition) }
        guard let log = logs.withLock({ $0.removeValue(forKey: partition) }) else {
            throw StorageError(.notFound, path: "\(dataDirectory)/\(partition.directoryName)")
        }
        cleaner?.forget(partition)
        try? log.close()
        // Checkpoints without the partition first: a crash after the rename must not leave
        // entries for a directory that is gone (they would apply to a partition re-created
        // under the same name: its log start offset, hiding its records). A crash before the
        // rename leaves the partition without entries: a full recovery, nothing lost.
        try checkpoint()
        let doomed = log.directory + LogDirectoryFiles.deletingPartitionSuffix
        try io.rename(log.directory, to: doomed)
        try io.fsyncDirectory(dataDirectory)
        for name in try io.listDirectory(doomed) { try io.unlink("\(doomed)/\(name)") }
        try io.rmdir(doomed)
    }

    /// Starts a background thread that, every `periodMs`, fsyncs logs whose `flush.ms` is due and
    /// writes the checkpoints every `checkpointIntervalMs` (Kafka's
    /// `log.flush.offset.checkpoint.interval.ms`, 60 s). `close()` stops it and waits for it.
    ///
    /// Retention (`retention.ms`, `retention.bytes`) is applied every `retentionCheckIntervalMs`
    /// (Kafka's `log.retention.check.interval.ms`, 5 minutes), and expired idempotent producers
    /// are removed every `producerExpirationCheckIntervalMs` (Kafka's
    /// `producer.id.expiration.check.interval.ms`, 10 minutes).
    public func startBackgroundTasks(periodMs: Int = 100, checkpointIntervalMs: Int64 = 60_000, retentionCheckIntervalMs: Int64 = 300_000,
                                     producerExpirationCheckIntervalMs: Int64 = 600_000) {
        precondition(periodMs > 0, "the background period must be positive")
        let tasks = BackgroundTasks()
        background.withLock { current in
            precondition(current == nil, "the background tasks are started once")
            current = tasks
        }
        let thread = Thread { [weak self] in
            var lastCheckpointMs = Log.nowMs()
            var lastRetentionMs = Log.nowMs()
            var lastExpirationMs = Log.nowMs()
            while !tasks.stopping.load(ordering: .acquiring) {
                guard let manager = self else { break }
                // Failures are not lost: a failed flush takes its log offline, and the next pass
                // retries checkpoints and retention.
                for log in manager.logs.withLock({ Array($0.values) }) { try? log.flushIfDue() }
                if Log.nowMs() - lastRetentionMs >= retentionCheckIntervalMs {
                    for log in manager.logs.withLock({ Array($0.values) }) { _ = try? log.applyRetention() }
                    lastRetentionMs = Log.nowMs()
                }
                if Log.nowMs() - lastExpirationMs >= producerExpirationCheckIntervalMs {
                    manager.removeExpiredProducers(nowMs: Log.nowMs())
                    lastExpirationMs = Log.nowMs()
                }
                if Log.nowMs() - lastCheckpointMs >= checkpointIntervalMs {
                    try? manager.checkpoint()
                    lastCheckpointMs = Log.nowMs()
                }
                _ = tasks.wake.wait(timeout: .now() + .milliseconds(periodMs))
            }
            tasks.running.store(false, ordering: .releasing)
            tasks.finished.signal()
        }
        thread.name = "petrel.log-manager"
        thread.start()
    }

    /// Whether the background thread is still running (false before `startBackgroundTasks` and
    /// once `close()` returned).
    var isBackgroundThreadRunning: Bool { background.withLock { $0?.running.load(ordering: .acquiring) ?? false } }

    /// Stops the background thread and waits until it has finished its pass: after this, no
    /// checkpoint write, flush or retention of the background runs beside the caller's.
    private func stopBackgroundTasks() {
        guard let tasks = background.withLock({ $0 }) else { return }
        guard !tasks.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        tasks.wake.signal()
        tasks.finished.wait()
    }

    /// Forgets, in every log, idempotent producers whose last batch is older than
    /// `producer.id.expiration.ms` at `nowMs`.
    public func removeExpiredProducers(nowMs: Int64) {
        for log in logs.withLock({ Array($0.values) }) { log.removeExpiredProducers(nowMs: nowMs) }
    }

    /// Writes the recovery-point and log-start-offset checkpoints.
    public func checkpoint() throws(StorageError) {
        let current = logs.withLock { $0 }
        try OffsetCheckpointFile(path: "\(dataDirectory)/\(LogDirectoryFiles.recoveryPointCheckpoint)", io: io)
            .write(current.mapValues(\.recoveryPoint))
        try OffsetCheckpointFile(path: "\(dataDirectory)/\(LogDirectoryFiles.logStartOffsetCheckpoint)", io: io)
            .write(current.mapValues(\.logStartOffset))
    }

    /// Starts the log cleaner (`log.cleaner.threads` threads) for the compacted logs of this
    /// directory; `close()` stops it. Returns it, for its stats and for passes run by hand.
    /// `hooks` are for tests and tools that stop a pass at a step.
    @discardableResult
    public func startCleaner(config: LogCleanerConfig = LogCleanerConfig(), hooks: CleanerHooks? = nil,
                             threads start: Bool = true) throws(StorageError) -> LogCleaner {
        let cleaner = try LogCleaner(config: config, dataDirectory: dataDirectory, io: io, hooks: hooks) { [weak self] in
            self?.logs.withLock { $0 } ?? [:]
        }
        cleanerSlot.withLock { slot in
            precondition(slot == nil, "the cleaner is started once")
            slot = cleaner
        }
        if start { cleaner.start() }
        return cleaner
    }

    /// The cleaner, once started.
    public var cleaner: LogCleaner? { cleanerSlot.withLock { $0 } }

    /// Flushes and closes every log, writes the checkpoints, then the clean-shutdown marker.
    public func close() throws(StorageError) {
        cleanerSlot.withLock { $0 }?.stop()
        stopBackgroundTasks()
        let current = logs.withLock { $0 }
        var firstError: StorageError?
        for log in current.values {
            do throws(StorageError) { try log.close() } catch { firstError = firstError ?? error }
        }
        try checkpoint()
        if let firstError { throw firstError }
        try io.writeFileAtomically("\(dataDirectory)/\(LogDirectoryFiles.cleanShutdownMarker)", bytes: Array("{\"version\":0}".utf8))
        releaseLock()
    }

    private func releaseLock() {
        lockDescriptor.withLock { descriptor in
            if descriptor >= 0 { io.close(descriptor) }
            descriptor = -1
        }
    }

    deinit { releaseLock() }
}
