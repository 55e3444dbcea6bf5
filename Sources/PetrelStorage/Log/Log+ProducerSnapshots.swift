#if canImport(Glibc)
import Glibc
#endif
import Synchronization
internal import PetrelFormat

extension Log {
    /// Offsets of the producer snapshots in the directory, ascending.
    func snapshotOffsets() throws(StorageError) -> [Int64] {
        try io.listDirectory(directory).compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: SegmentFiles.snapshotSuffix) }.sorted()
    }

    func snapshotPath(_ offset: Int64) -> String { SegmentFiles.snapshotPath(directory, offset) }

    /// Forgets idempotent producers whose last batch is older than `producer.id.expiration.ms`
    /// at `nowMs` (Kafka's `removeExpiredProducers`): their ids are not kept in memory and
    /// snapshots forever. A `LogManager` calls this periodically; snapshots apply it too.
    public func removeExpiredProducers(nowMs: Int64) {
        queueCondition.withLock { producerState.removeExpired(nowMs: nowMs, expirationMs: config.producerIdExpirationMs) }
    }

    /// Producers the log remembers (for tests and stats).
    var producerCount: Int { queueCondition.withLock { producerState.entries.count } }

    /// Writes `<log end offset>.snapshot` (Kafka's format), without the producers expired at
    /// `nowMs`, and removes older snapshots. Called with no writer running (close).
    func writeProducerSnapshot(nowMs: Int64 = Log.nowMs()) throws(StorageError) {
        let end = logEndOffset
        let state = queueCondition.withLock {
            producerState.removeExpired(nowMs: nowMs, expirationMs: config.producerIdExpirationMs)
            return producerState
        }
        try io.writeFileAtomically(snapshotPath(end), bytes: state.snapshotBytes())
        for offset in try snapshotOffsets() where offset != end { try io.unlink(snapshotPath(offset)) }
    }

    /// Producer snapshots that rolls keep (the newest ones): recovery needs only the newest at
    /// or below the log end; the one before covers a crash that loses the newest's name.
    static let rollSnapshotsRetained = 3

    /// The producer state of the offsets below `offset`, as snapshot bytes: the queue's state
    /// (which already holds batches queued past a roll) without the batches assigned at or
    /// after `offset`. Taken by the writer when it rolls to a segment starting at `offset`.
    func producerSnapshotBytes(below offset: Int64) -> [UInt8] {
        var state = queueCondition.withLock { producerState }
        state.forget(from: offset)
        return state.snapshotBytes()
    }

    /// Writes `<offset>.snapshot` taken at a roll (Kafka snapshots at every roll too), so that
    /// recovery after a crash replays producer state from the last roll rather than from the
    /// log start; removes all but the newest `rollSnapshotsRetained`. Called once every byte
    /// below `offset` is durable and before the recovery point passes it, in roll order.
    ///
    /// Written atomically (temporary file, fsync, rename, directory fsync), so a snapshot is
    /// visible only whole and only for durable data. A failure is counted, not thrown: no
    /// acknowledgement depends on a snapshot (recovery replays from the previous one, only
    /// further), the log stays online, and a temporary file left over is removed at start-up.
    func writeRollSnapshot(_ bytes: [UInt8], at offset: Int64) {
        do throws(StorageError) {
            try io.writeFileAtomically(snapshotPath(offset), bytes: bytes)
            for old in try snapshotOffsets().dropLast(Self.rollSnapshotsRetained) { try io.unlink(snapshotPath(old)) }
        } catch {
            producerSnapshotFailures.add(1, ordering: .relaxed)
        }
    }

    /// Rebuilds producer state: the newest valid snapshot at or below the log end, then every
    /// producer batch after it, replayed from the log (batch headers only). A snapshot is only
    /// ever written once the log below its offset is durable, so after a crash one at or below
    /// the recovered log end describes bytes that survived it. Returns the offset the replay
    /// started from.
    @discardableResult
    func loadProducerState() throws(StorageError) -> Int64 {
        let end = logEndOffset
        var state = ProducerState()
        var replayFrom = logStartOffset
        for offset in try snapshotOffsets().reversed() {
            guard offset <= end, offset >= logStartOffset,
                  let loaded = ProducerState.fromSnapshot(try io.readSmallFile(snapshotPath(offset))) else { continue }
            state = loaded
            replayFrom = offset
            break
        }
        var next = replayFrom
        while next < end {
            // A read or decode error is thrown, not taken as the end of the log: stopping early
            // would leave dedup and fencing state silently partial after a crash.
            let advanced: Int64?
            do {
                advanced = try read(fromOffset: next, maxBytes: 1 << 20) { slice -> Int64? in
                    var reader = RecordBatchReader(slice.bytes, verifyingCRC: false)
                    var last: Int64?
                    while let batch = try reader.next() {
                        if batch.baseOffset >= next { state.record(batch) }
                        last = batch.nextOffset
                    }
                    return last
                }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(.corrupt(reason: "replaying producer state: \(error)"), path: directory, offset: next)
            }
            // No batch at or after `next` below the log end: nothing more to replay.
            guard let advanced, advanced > next else { break }
            next = advanced
        }
        queueCondition.withLock { producerState = state }
        return replayFrom
    }
}
