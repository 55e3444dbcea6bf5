import Dispatch
import Foundation
import Synchronization

/// Counters of the cleaner since start-up, for stats and metrics.
public struct LogCleanerStats: Sendable, Equatable {
    public var passes = 0
    public var dirtyBytesRead: Int64 = 0
    public var bytesRead: Int64 = 0
    public var bytesWritten: Int64 = 0
    public var recordsRemoved = 0
    /// Partitions a pass failed on, with why: skipped until restart, as Kafka's uncleanable
    /// partitions (`uncleanable-partitions-count`).
    public var uncleanable: [TopicPartition: String] = [:]
}

/// The log cleaner of one data directory (Kafka's `LogCleaner` and `LogCleanerManager`):
/// `log.cleaner.threads` threads, each with its own `OffsetMap`, each taking the dirtiest
/// compacted log (`min.cleanable.dirty.ratio`, `max.compaction.lag.ms`, tombstones whose delete
/// horizon passed), one log per thread at a time. Progress is kept in `cleaner-offset-checkpoint`.
///
/// Made and owned by a `LogManager` (`startCleaner`); its passes can also be run by hand
/// (`clean(_:nowMs:)`, `compactFully`) for tools and tests.
public final class LogCleaner: @unchecked Sendable {
    // Safe: `state` is touched only under `condition`; the rest is immutable or Sendable.
    public let config: LogCleanerConfig
    let checkpointPath: String
    let io: any FileIO
    private let logs: @Sendable () -> [TopicPartition: Log]
    private let condition = Condition()
    private var state = State()
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let threadsRunning = DispatchGroup()
    /// `log.cleaner.io.max.bytes.per.second` and `log.cleaner.backoff.ms`, which a broker may
    /// change at run time (`update`).
    private let throttleValue: Mutex<CleanerThrottle?>
    private let backoffMsValue: Atomic<Int64>
    private var throttle: CleanerThrottle? { throttleValue.withLock { $0 } }
    /// Hooks for every pass (tests and `petrel log compact`'s crash points).
    public let hooks: CleanerHooks?

    private struct State {
        var checkpoints: [TopicPartition: Int64] = [:]
        var inProgress: Set<TopicPartition> = []
        /// Pause counts (nestable, as Kafka's `LogCleaningPaused(n)`).
        var paused: [TopicPartition: Int] = [:]
        var deleteHorizons: [TopicPartition: Int64] = [:]
        var stats = LogCleanerStats()
    }

    init(config: LogCleanerConfig, dataDirectory: String, io: any FileIO, hooks: CleanerHooks?,
         logs: @escaping @Sendable () -> [TopicPartition: Log]) throws(StorageError) {
        self.config = try config.validated()
        checkpointPath = "\(dataDirectory)/\(LogDirectoryFiles.cleanerOffsetCheckpoint)"
        self.io = io
        self.logs = logs
        self.hooks = hooks
        throttleValue = Mutex(config.ioMaxBytesPerSecond.map { CleanerThrottle(bytesPerSecond: $0) })
        backoffMsValue = Atomic(config.backoffMs)
        // Unreadable counts as empty: every compacted log is cleaned from its start once more,
        // which costs time and loses nothing.
        state.checkpoints = (try? OffsetCheckpointFile(path: checkpointPath, io: io).read()) ?? [:]
    }

    public var stats: LogCleanerStats { condition.withLock { state.stats } }

    /// The checkpoint of `partition`: offsets below it were cleaned.
    public func checkpoint(for partition: TopicPartition) -> Int64? { condition.withLock { state.checkpoints[partition] } }

    // MARK: Threads

    func start() {
        guard config.enabled else { return }
        for index in 0..<config.threads {
            threadsRunning.enter()
            let thread = Thread { [self] in
                let map = OffsetMap(memoryBytes: config.mapBytesPerThread)
                while !stopping.load(ordering: .acquiring) {
                    let worked = runDirtiest(map: map, nowMs: Log.nowMs())
                    if !worked { _ = wake.wait(timeout: .now() + .milliseconds(Int(clamping: backoffMsValue.load(ordering: .relaxed)))) }
                }
                threadsRunning.leave()
            }
            thread.name = "petrel.cleaner-\(index)"
            thread.start()
        }
    }

    /// Stops the threads and waits for them: a pass in progress gives up at its next batch, as
    /// if its log had been truncated (what it swapped before stays).
    func stop() {
        stopping.store(true, ordering: .releasing)
        for log in logs().values { log.cleaningGeneration.add(1, ordering: .acquiringAndReleasing) }
        for _ in 0..<config.threads { wake.signal() }
        threadsRunning.wait()
    }

    /// Applies new `log.cleaner.io.max.bytes.per.second` (nil: no bound) and
    /// `log.cleaner.backoff.ms`: the next batch a pass reads is held to the new rate.
    public func update(ioMaxBytesPerSecond: Double?, backoffMs: Int64) {
        throttleValue.withLock { $0 = ioMaxBytesPerSecond.map { CleanerThrottle(bytesPerSecond: $0) } }
        backoffMsValue.store(backoffMs, ordering: .relaxed)
        wakeUp()
    }

    /// Wakes a sleeping thread (a config change, a test).
    public func wakeUp() { wake.signal() }

    // MARK: Choosing and running passes

    /// Cleans the dirtiest eligible log once; false when none is eligible.
    @discardableResult
    public func runDirtiest(map: OffsetMap, nowMs: Int64) -> Bool {
        guard let (partition, log) = grabDirtiest(nowMs: nowMs) else { return false }
        run(partition, log, map: map, nowMs: nowMs)
        return true
    }

    /// Kafka's `grabFilthiestCompactedLog`: of the compacted logs not being cleaned, paused or
    /// uncleanable, the one with the highest dirty ratio among those past
    /// `min.cleanable.dirty.ratio`, or past `max.compaction.lag.ms`, or holding tombstones whose
    /// delete horizon has passed. Marks it in progress.
    private func grabDirtiest(nowMs: Int64) -> (TopicPartition, Log)? {
        let candidates = logs().filter { $0.value.config.cleanupPolicy.contains(.compact) }
        let snapshot = condition.withLock { state }
        var best: (partition: TopicPartition, log: Log, ratio: Double)?
        for (partition, log) in candidates.sorted(by: { $0.key < $1.key }) {
            guard !snapshot.inProgress.contains(partition), snapshot.paused[partition, default: 0] == 0,
                  snapshot.stats.uncleanable[partition] == nil else { continue }
            let range: CleanableRange
            do throws(StorageError) { range = try log.cleanableRange(checkpoint: snapshot.checkpoints[partition], nowMs: nowMs) } catch {
                // Its segments cannot be read: uncleanable until restart, as a failed pass makes it.
                condition.withLock { state.stats.uncleanable[partition] = error.description }
                continue
            }
            let horizonPassed = snapshot.deleteHorizons[partition].map { nowMs >= $0 } ?? false
            let eligible = range.cleanableBytes > 0 && (range.dirtyRatio > log.config.minCleanableDirtyRatio || range.maxCompactionLagExceeded)
            guard eligible || (horizonPassed && range.cleanBytes > 0) else { continue }
            // A log chosen for its passed horizon alone ranks as dirty as its ratio says.
            if range.dirtyRatio >= best?.ratio ?? -1 { best = (partition, log, range.dirtyRatio) }
        }
        guard let best else { return nil }
        let claimed = condition.withLock { () -> Bool in
            guard !state.inProgress.contains(best.partition), state.paused[best.partition, default: 0] == 0 else { return false }
            state.inProgress.insert(best.partition)
            return true
        }
        return claimed ? (best.partition, best.log) : nil
    }

    /// One pass of `partition`, claimed by the caller (marked in progress); records its
    /// checkpoint and counters, and marks the log uncleanable when the pass failed.
    @discardableResult
    private func run(_ partition: TopicPartition, _ log: Log, map: OffsetMap, nowMs: Int64) -> Result<CleaningResult, StorageError> {
        let checkpoint = condition.withLock { state.checkpoints[partition] }
        let options = CleaningOptions(nowMs: nowMs, ioBufferBytes: config.ioBufferBytesPerThread, throttle: throttle, hooks: hooks)
        let outcome = Result { () throws(StorageError) in try log.clean(checkpoint: checkpoint, map: map, options: options) }
        var newCheckpoints: [TopicPartition: Int64]?
        condition.withLock {
            state.inProgress.remove(partition)
            switch outcome {
            case let .success(result):
                state.stats.passes += 1
                state.stats.dirtyBytesRead += result.dirtyBytesRead
                state.stats.bytesRead += result.bytesRead
                state.stats.bytesWritten += result.bytesWritten
                state.stats.recordsRemoved += result.recordsRemoved
                // An aborted pass keeps the old checkpoint: the next one starts over from it.
                if result.abortedBecause == nil {
                    state.checkpoints[partition] = result.endOffset
                    if let horizon = result.earliestDeleteHorizonMs { state.deleteHorizons[partition] = horizon }
                    else { state.deleteHorizons.removeValue(forKey: partition) }
                    newCheckpoints = state.checkpoints
                }
            case let .failure(error):
                state.stats.uncleanable[partition] = error.description
            }
            condition.broadcast()
        }
        if let newCheckpoints { writeCheckpoints(newCheckpoints) }
        return outcome
    }

    /// Writes the checkpoint file with the entries of the partitions that still exist. A write
    /// that fails is retried by the next pass; losing it costs a pass, never data.
    private func writeCheckpoints(_ checkpoints: [TopicPartition: Int64]) {
        let existing = logs()
        let kept = checkpoints.filter { existing[$0.key] != nil }
        do throws(StorageError) { try OffsetCheckpointFile(path: checkpointPath, io: io).write(kept) } catch {}
    }

    /// Runs one pass of `partition` now, whatever its dirty ratio (waits for a pass already
    /// running on it). Nil when the log does not exist or its cleaning is paused.
    @discardableResult
    public func clean(_ partition: TopicPartition, nowMs: Int64, map: OffsetMap) throws(StorageError) -> CleaningResult? {
        guard let log = logs()[partition], log.config.cleanupPolicy.contains(.compact) else { return nil }
        let claimed = condition.withLock { () -> Bool in
            while state.inProgress.contains(partition) { condition.wait() }
            guard state.paused[partition, default: 0] == 0 else { return false }
            state.inProgress.insert(partition)
            return true
        }
        guard claimed else { return nil }
        return try run(partition, log, map: map, nowMs: nowMs).get()
    }

    /// Passes of `partition` until its whole cleanable range is clean (several when the offset
    /// map fills). Returns the passes' results.
    public func compactFully(_ partition: TopicPartition, nowMs: Int64, map: OffsetMap, passesMax: Int = 10_000) throws(StorageError) -> [CleaningResult] {
        var results: [CleaningResult] = []
        while results.count < passesMax, let result = try clean(partition, nowMs: nowMs, map: map) {
            results.append(result)
            if result.abortedBecause != nil || !result.offsetMapFilled { break }
        }
        return results
    }

    // MARK: Pausing

    /// Waits for a pass of `partition` in progress to end and keeps new ones out until
    /// `resumeCleaning` (nestable). A deletion of the log or of its records runs in between.
    public func pauseCleaning(_ partition: TopicPartition) {
        condition.withLock {
            state.paused[partition, default: 0] += 1
            while state.inProgress.contains(partition) { condition.wait() }
        }
    }

    public func resumeCleaning(_ partition: TopicPartition) {
        condition.withLock {
            let count = state.paused[partition, default: 0]
            precondition(count > 0, "cleaning resumed more often than it was paused")
            if count == 1 { state.paused.removeValue(forKey: partition) } else { state.paused[partition] = count - 1 }
        }
    }

    /// Forgets a deleted partition's checkpoint and state.
    func forget(_ partition: TopicPartition) {
        let checkpoints: [TopicPartition: Int64] = condition.withLock {
            state.checkpoints.removeValue(forKey: partition)
            state.deleteHorizons.removeValue(forKey: partition)
            state.stats.uncleanable.removeValue(forKey: partition)
            return state.checkpoints
        }
        writeCheckpoints(checkpoints)
    }
}
