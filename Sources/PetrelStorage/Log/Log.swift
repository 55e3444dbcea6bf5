#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import Dispatch
import Synchronization

/// One partition's log: an ordered list of segments in a directory, appended to by many
/// threads through one group-commit writer and read by many threads at once.
///
/// This is the log-level API an embedder uses: `append` returns the offsets assigned,
/// `read(fromOffset:maxBytes:_:)` lends whole batches without copying, `offset(forTimestamp:)`,
/// `truncate(removingFrom:)`, `deleteRecords(before:)`, `flush()`, `close()`.
/// Open one with `Log.open(directory:config:…)`, or through a `LogManager`.
public final class Log: @unchecked Sendable {
    // Safe: `segments` changes only under the structure write lock and is read under its read
    // lock; the append queue state (`queue*`, `writerActive`, `nextOffset`, `offline`) only under
    // `queueCondition`; writer-only state (`unflushed*`) only by the thread holding
    // `writerActive`; offsets readers need are atomics.
    public let directory: String
    /// The log's settings; `updateConfig` changes them while it is open (a topic's configs
    /// altered at run time). A new `segment.bytes` or `segment.index.bytes` applies from the
    /// next segment: the active one keeps the mapping and indexes it was created with.
    public var config: LogConfig { configValue.withLock { $0 } }
    private let configValue: Mutex<LogConfig>
    let io: any FileIO
    let handleCache: SegmentHandleCache?
    let structureLock = ReadWriteLock()
    var segments: [Segment]

    let queueCondition = Condition()
    /// Appends waiting for the writer, oldest first (a deque: the writer takes from the front).
    var queue: Deque<PendingAppend> = []
    var queuedBytes = 0
    /// Asynchronous appends waiting for room in the queue, oldest first.
    var parkedAppends: Deque<ParkedAppend> = []
    var writerActive = false
    var nextOffset: Int64
    var offlineError: StorageError?
    /// Idempotent producers' sequences (under the queue lock, like offset assignment).
    var producerState = ProducerState()

    /// Bumped by every change a cleaning pass must not swap over (a truncation, a close): a pass
    /// compares it before each swap and gives up when it moved.
    let cleaningGeneration = Atomic<UInt64>(0)
    /// Set while a cleaning pass runs: one at a time per log.
    let cleaningInProgress = Atomic<Bool>(false)

    /// Roll snapshots that could not be written (see `writeRollSnapshot`), for stats and tests.
    let producerSnapshotFailures = Atomic<Int>(0)

    var unflushedMessages: Int64 = 0
    /// Wall-clock time of the last fsync of the active segment (writer and `flush()`).
    let lastFlushMs: Atomic<Int64>
    let flushLock = Locked<Void>(())
    /// Rolled segments are fsynced here, in roll order, off the append path.
    let backgroundSync = DispatchQueue(label: "petrel.log.sync")
    /// Rolled segments waiting for their background fsync. Each holds its descriptors until
    /// then, so the writer waits for the queue once this many are pending: a burst of rolls
    /// (10,000 tiny segments) cannot run the process out of descriptors.
    let backgroundSyncsPending = Atomic<Int>(0)
    static let backgroundSyncsPendingMax = 16
    /// Where the writer runs for asynchronous appends (synchronous ones write on their own thread).
    let writerQueue = DispatchQueue(label: "petrel.log.writer")

    private let logEndOffsetValue: Atomic<Int64>
    private let logStartOffsetValue: Atomic<Int64>
    private let recoveryPointValue: Atomic<Int64>

    init(directory: String, config: LogConfig, io: any FileIO, handleCache: SegmentHandleCache?, segments: [Segment],
         logStartOffset: Int64, recoveryPoint: Int64) {
        self.handleCache = handleCache
        precondition(!segments.isEmpty && segments.last!.isActive, "a log needs an active segment")
        self.directory = directory
        configValue = Mutex(config)
        self.io = io
        self.segments = segments
        let end = segments.last!.nextOffset
        nextOffset = end
        logEndOffsetValue = Atomic(end)
        logStartOffsetValue = Atomic(logStartOffset)
        recoveryPointValue = Atomic(min(recoveryPoint, end))
        lastFlushMs = Atomic(Log.nowMs())
    }

    /// The offset the next appended record gets; every offset below it is readable.
    public var logEndOffset: Int64 { logEndOffsetValue.load(ordering: .acquiring) }
    /// The first offset still readable (moved forward by `deleteRecords(before:)`).
    public var logStartOffset: Int64 { logStartOffsetValue.load(ordering: .acquiring) }
    /// Every offset below this is known to be fsynced.
    public var recoveryPoint: Int64 { recoveryPointValue.load(ordering: .acquiring) }
    /// Number of segments (for tests and stats).
    public var segmentCount: Int { structureLock.withReadLock { segments.count } }
    /// Base offsets of the segments, in order.
    public var segmentBaseOffsets: [Int64] { structureLock.withReadLock { segments.map(\.baseOffset) } }
    /// Bytes of log data in all segments.
    public var sizeBytes: Int { structureLock.withReadLock { segments.reduce(0) { $0 + $1.publishedBytes } } }

    /// Appends waiting for the writer (for tests that line up a group).
    var queuedAppendCount: Int { queueCondition.withLock { queue.count } }
    /// Asynchronous appends waiting for room in the queue (for tests).
    var parkedAppendCount: Int { queueCondition.withLock { parkedAppends.count } }

    func setLogEndOffset(_ offset: Int64) { logEndOffsetValue.store(offset, ordering: .releasing) }
    func setLogStartOffset(_ offset: Int64) { logStartOffsetValue.store(offset, ordering: .releasing) }
    func advanceRecoveryPoint(to offset: Int64) {
        var current = recoveryPointValue.load(ordering: .acquiring)
        while offset > current {
            let (exchanged, original) = recoveryPointValue.compareExchange(expected: current, desired: offset, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }
    func lowerRecoveryPoint(to offset: Int64) { recoveryPointValue.store(min(recoveryPoint, offset), ordering: .releasing) }

    static func nowMs() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// fsyncs everything appended so far and advances the recovery point.
    ///
    /// - Throws: `StorageError` if fsync fails; the log is then offline (after a failed fsync
    ///   the page cache's state is unknown, so retrying would lie).
    public func flush() throws(StorageError) {
        try flushLock.withLock { (_) throws(StorageError) in
            let end = logEndOffset
            do throws(StorageError) {
                // Under the read lock, so that no roll seals the segment while it is synced.
                try structureLock.withReadLock { () throws(StorageError) in try segments.last!.flush() }
            } catch {
                takeOffline(error)
                throw error
            }
            lastFlushMs.store(Log.nowMs(), ordering: .relaxed)
            backgroundSync.sync {}  // rolled segments below the active one are synced too
            advanceRecoveryPoint(to: end)
        }
    }

    /// fsyncs if the `flush.ms` of an interval policy has passed with data not yet synced; a
    /// `LogManager` calls this periodically so that an idle log is synced on time too.
    public func flushIfDue() throws(StorageError) {
        guard case let .interval(_, milliseconds) = config.flushPolicy, milliseconds < .max,
              logEndOffset > recoveryPoint, Log.nowMs() - lastFlushMs.load(ordering: .relaxed) >= milliseconds else { return }
        try flush()
    }

    /// Applies new settings to the open log (`config` is read afresh by every append, roll,
    /// retention and cleaning pass).
    /// - Throws: `.invalidConfig` naming the first setting out of range; nothing changes then.
    public func updateConfig(_ newConfig: LogConfig) throws(StorageError) {
        let validated = try newConfig.validated()
        configValue.withLock { $0 = validated }
    }

    /// Marks the log offline: every waiting and future append fails with `error`.
    func takeOffline(_ error: StorageError) {
        queueCondition.withLock {
            if offlineError == nil { offlineError = error }
            for pending in queue { pending.complete(.failure(error)) }
            queue.removeAll()
            queuedBytes = 0
            admitParkedAppendsLocked()
            queueCondition.broadcast()
        }
    }

    /// Flushes and closes the log. Appends afterwards fail; reads still in progress finish.
    public func close() throws(StorageError) {
        cleaningGeneration.add(1, ordering: .acquiringAndReleasing)
        excludeWriters()
        defer { readmitWriters(closing: true) }
        if queueCondition.withLock({ offlineError }) == nil {
            try flush()
            try writeProducerSnapshot()
        }
        backgroundSync.sync {}
        try structureLock.withWriteLock { () throws(StorageError) in
            for segment in segments { try segment.closeFiles() }
        }
    }

    /// Waits until no writer runs and keeps new ones out, for structural changes.
    func excludeWriters() {
        queueCondition.withLock {
            while writerActive { queueCondition.wait() }
            writerActive = true
        }
    }

    func readmitWriters(closing: Bool = false) {
        queueCondition.withLock {
            writerActive = false
            if closing && offlineError == nil { offlineError = StorageError(.logOffline(reason: "closed"), path: directory) }
            nextOffset = logEndOffset
            queueCondition.broadcast()
        }
    }
}
