#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Foundation

/// The partition logs of one data directory (Kafka's `log.dirs` entry): opens them all at
/// start-up — fast after a clean shutdown, recovering after a crash — creates and deletes them,
/// and keeps the directory's checkpoints and clean-shutdown marker.
public final class LogManager: Sendable {
    /// Written last at clean shutdown, deleted first at start-up (so a crash during start-up
    /// counts as unclean next time), as Kafka does.
    public static let cleanShutdownMarkerName = ".kafka_cleanshutdown"
    /// Held (flock) while a process owns the directory.
    public static let lockFileName = ".lock"

    public let dataDirectory: String
    public let defaultConfig: LogConfig
    let io: any FileIO
    /// Bounds the sealed segments holding mappings, across all logs.
    public let handleCache: SegmentHandleCache
    private let logs = Mutex<[TopicPartition: Log]>([:])
    /// What opening each partition's log found (recovery, quarantine).
    public let recoveryReports: [TopicPartition: RecoveryReport]
    public let hadCleanShutdown: Bool
    private let stopping = Atomic<Bool>(false)
    /// The lock file's descriptor while held; -1 once released.
    private let lockDescriptor: Mutex<Int32>

    /// Opens every partition directory in `dataDirectory` (created if missing).
    public init(dataDirectory: String, defaultConfig: LogConfig = LogConfig(), io: any FileIO = SystemFileIO(),
                openSegmentsMax: Int = 1024) throws(StorageError) {
        self.dataDirectory = dataDirectory
        self.handleCache = SegmentHandleCache(capacity: openSegmentsMax)
        self.defaultConfig = defaultConfig
        self.io = io
        if !io.exists(dataDirectory) { try io.mkdir(dataDirectory) }
        let lockPath = "\(dataDirectory)/\(Self.lockFileName)"
        let descriptor = try io.open(lockPath, flags: O_RDWR | O_CREAT, mode: 0o644)
        guard try io.tryLockExclusive(descriptor, path: lockPath) else {
            io.close(descriptor)
            throw StorageError(.directoryInUse, path: lockPath)
        }
        lockDescriptor = Mutex(descriptor)
        let marker = "\(dataDirectory)/\(Self.cleanShutdownMarkerName)"
        hadCleanShutdown = io.exists(marker)
        if hadCleanShutdown {
            try io.unlink(marker)
            try io.fsyncDirectory(dataDirectory)
        }
        // A checkpoint that cannot be read counts as empty: recovery then starts from offset 0,
        // which costs time but loses nothing.
        let recoveryPoints = (try? OffsetCheckpointFile(path: "\(dataDirectory)/\(OffsetCheckpointFile.recoveryPointName)", io: io).read()) ?? [:]
        let logStartOffsets = (try? OffsetCheckpointFile(path: "\(dataDirectory)/\(OffsetCheckpointFile.logStartOffsetName)", io: io).read()) ?? [:]
        var opened: [TopicPartition: Log] = [:]
        var reports: [TopicPartition: RecoveryReport] = [:]
        for name in try io.listDirectory(dataDirectory) {
            guard let partition = TopicPartition(directoryName: name) else { continue }
            let (log, report) = try Log.open(
                directory: "\(dataDirectory)/\(name)", config: defaultConfig, io: io,
                recoveryPoint: recoveryPoints[partition] ?? 0, logStartOffset: logStartOffsets[partition] ?? 0,
                hadCleanShutdown: hadCleanShutdown, handleCache: handleCache)
            opened[partition] = log
            reports[partition] = report
        }
        logs.withLock { $0 = opened }
        recoveryReports = reports
    }

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
            var generator = SystemRandomNumberGenerator()
            try PartitionMetadataFile(directory: path, io: io).write(topicId: topicId ?? (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let (log, _) = try Log.open(directory: path, config: config ?? defaultConfig, io: io, hadCleanShutdown: true,
                                        handleCache: handleCache)
            try io.fsyncDirectory(dataDirectory)
            logs[partition] = log
            return log
        }
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
    /// a crash half-way leaves something start-up ignores, then its files are removed.
    public func deleteLog(for partition: TopicPartition) throws(StorageError) {
        guard let log = logs.withLock({ $0.removeValue(forKey: partition) }) else {
            throw StorageError(.notFound, path: "\(dataDirectory)/\(partition.directoryName)")
        }
        try? log.close()
        // Checkpoints without the partition first: a crash after the rename must not leave
        // entries for a directory that is gone (they would apply to a partition re-created
        // under the same name: its log start offset, hiding its records). A crash before the
        // rename leaves the partition without entries: a full recovery, nothing lost.
        try checkpoint()
        let doomed = "\(log.directory).delete"
        try io.rename(log.directory, to: doomed)
        try io.fsyncDirectory(dataDirectory)
        for name in try io.listDirectory(doomed) { try io.unlink("\(doomed)/\(name)") }
        try io.rmdir(doomed)
    }

    /// Starts a background thread that, every `periodMs`, fsyncs logs whose `flush.ms` is due and
    /// writes the checkpoints every `checkpointIntervalMs` (Kafka's
    /// `log.flush.offset.checkpoint.interval.ms`, 60 s). It stops at `close()`.
    ///
    /// Retention (`retention.ms`, `retention.bytes`) is applied every `retentionCheckIntervalMs`
    /// (Kafka's `log.retention.check.interval.ms`, 5 minutes).
    public func startBackgroundTasks(periodMs: Int = 100, checkpointIntervalMs: Int64 = 60_000, retentionCheckIntervalMs: Int64 = 300_000) {
        let thread = Thread { [weak self] in
            var lastCheckpointMs = Log.nowMs()
            var lastRetentionMs = Log.nowMs()
            while let manager = self, !manager.stopping.load(ordering: .relaxed) {
                for log in manager.logs.withLock({ Array($0.values) }) { try? log.flushIfDue() }
                if Log.nowMs() - lastRetentionMs >= retentionCheckIntervalMs {
                    for log in manager.logs.withLock({ Array($0.values) }) { _ = try? log.applyRetention() }
                    lastRetentionMs = Log.nowMs()
                }
                if Log.nowMs() - lastCheckpointMs >= checkpointIntervalMs {
                    try? manager.checkpoint()
                    lastCheckpointMs = Log.nowMs()
                }
                usleep(UInt32(periodMs * 1000))
            }
        }
        thread.name = "petrel.log-manager"
        thread.start()
    }

    /// Writes the recovery-point and log-start-offset checkpoints.
    public func checkpoint() throws(StorageError) {
        let current = logs.withLock { $0 }
        try OffsetCheckpointFile(path: "\(dataDirectory)/\(OffsetCheckpointFile.recoveryPointName)", io: io)
            .write(current.mapValues(\.recoveryPoint))
        try OffsetCheckpointFile(path: "\(dataDirectory)/\(OffsetCheckpointFile.logStartOffsetName)", io: io)
            .write(current.mapValues(\.logStartOffset))
    }

    /// Flushes and closes every log, writes the checkpoints, then the clean-shutdown marker.
    public func close() throws(StorageError) {
        stopping.store(true, ordering: .relaxed)
        let current = logs.withLock { $0 }
        var firstError: StorageError?
        for log in current.values {
            do throws(StorageError) { try log.close() } catch { firstError = firstError ?? error }
        }
        try checkpoint()
        if let firstError { throw firstError }
        try io.writeFileAtomically("\(dataDirectory)/\(Self.cleanShutdownMarkerName)", bytes: Array("{\"version\":0}".utf8))
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
