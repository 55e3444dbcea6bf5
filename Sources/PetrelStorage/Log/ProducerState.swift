internal import PetrelFormat

/// Idempotent-producer state of one partition (Kafka's `ProducerStateManager`): per producer id,
/// its epoch and its last five batches' sequences and offsets, so that a batch a producer resends
/// after a lost response is recognised and answered with its original offsets, and a batch out of
/// order or from a fenced epoch is refused.
struct ProducerState: Sendable, Equatable {
    /// Batches remembered per producer: the client's `max.in.flight.requests.per.connection`
    /// bound for idempotence.
    static let batchesRetained = 5

    struct Batch: Sendable, Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
        var timestamp: Int64
    }

    struct Entry: Sendable, Equatable {
        var epoch: Int16
        var batches: [Batch]
        var coordinatorEpoch: Int32 = -1
    }

    private(set) var entries: [Int64: Entry] = [:]

    enum Decision: Equatable {
        case append
        /// Already in the log: answer with these offsets, append nothing.
        case duplicate(Batch)
    }

    /// Applies Kafka's rules (§8.2) to a client batch of `producerId`.
    func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) throws(StorageError) -> Decision {
        guard let entry = entries[producerId] else { return .append }  // unknown producer: any sequence
        if epoch < entry.epoch {
            throw StorageError(.invalidProducerEpoch(producerId: producerId, epoch: epoch, currentEpoch: entry.epoch))
        }
        if epoch > entry.epoch {
            guard firstSequence == 0 else {
                throw StorageError(.outOfOrderSequence(producerId: producerId, sequence: firstSequence, expected: 0))
            }
            return .append
        }
        if let duplicate = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(duplicate)
        }
        if let last = entry.batches.last {
            let expected = last.lastSequence == Int32.max ? 0 : last.lastSequence + 1
            guard firstSequence == expected else {
                throw StorageError(.outOfOrderSequence(producerId: producerId, sequence: firstSequence, expected: expected))
            }
        }
        return .append
    }

    /// Records a batch of `producerId` written (or about to be) at `firstOffset…lastOffset`.
    mutating func record(producerId: Int64, epoch: Int16, batch: Batch) {
        var entry = entries[producerId] ?? Entry(epoch: epoch, batches: [])
        if epoch != entry.epoch {
            entry.epoch = epoch
            entry.batches.removeAll()
        }
        entry.batches.append(batch)
        if entry.batches.count > Self.batchesRetained { entry.batches.removeFirst(entry.batches.count - Self.batchesRetained) }
        entries[producerId] = entry
    }

    /// Records a batch read back from the log (recovery, snapshots replay).
    mutating func record(_ batch: RecordBatch) {
        guard batch.producerId >= 0, !batch.isControl else { return }
        record(producerId: batch.producerId, epoch: batch.producerEpoch, batch: Batch(
            firstSequence: batch.baseSequence, lastSequence: batch.lastSequence, firstOffset: batch.baseOffset,
            lastOffset: batch.lastOffset, timestamp: batch.maxTimestamp))
    }

    /// Forgets producers whose last batch's max timestamp (Kafka's `lastTimestamp`) is
    /// `expirationMs` or more before `nowMs`, as Kafka's `removeExpiredProducers` does for
    /// producers without an open transaction (Petrel has no transactions yet). A producer with
    /// no batch left (all truncated away) counts as expired, as Kafka's timestamp -1 would.
    mutating func removeExpired(nowMs: Int64, expirationMs: Int64) {
        entries = entries.filter { _, entry in
            guard let last = entry.batches.last else { return false }
            // A timestamp far in the past (a producer's batch may carry any int64) overflows
            // the difference: such a producer is older than any expiration.
            let (age, overflow) = nowMs.subtractingReportingOverflow(last.timestamp)
            return !overflow && age < expirationMs
        }
    }

    /// Forgets batches at or after `offset` (appends that failed, or a truncated suffix).
    mutating func forget(from offset: Int64) {
        for (producerId, var entry) in entries {
            entry.batches.removeAll { $0.lastOffset >= offset }
            entries[producerId] = entry
        }
    }

    // MARK: Snapshots (Kafka's ProducerSnapshot v1)

    /// `version int16 = 1`, `crc uint32` (CRC-32C of everything after it), `count int32`, then per
    /// producer 46 bytes: id, epoch, last sequence, last offset, offset delta, timestamp,
    /// coordinator epoch, current transaction's first offset (−1). Only each producer's last batch
    /// is kept, as in Kafka.
    func snapshotBytes() -> [UInt8] {
        var body: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { body.append(contentsOf: $0) } }
        let producers = entries.filter { !$0.value.batches.isEmpty }.sorted { $0.key < $1.key }
        put(Int32(producers.count))
        for (producerId, entry) in producers {
            let last = entry.batches.last!
            put(producerId)
            put(entry.epoch)
            put(last.lastSequence)
            put(last.lastOffset)
            put(Int32(truncatingIfNeeded: last.lastOffset - last.firstOffset))
            put(last.timestamp)
            put(entry.coordinatorEpoch)
            put(Int64(-1))
        }
        var file: [UInt8] = []
        withUnsafeBytes(of: Int16(1).bigEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(body).bigEndian) { file.append(contentsOf: $0) }
        return file + body
    }

    /// Reads a snapshot; nil when it is not a valid v1 snapshot (it is then ignored, and the state
    /// rebuilt from the log, as Kafka does).
    static func fromSnapshot(_ bytes: [UInt8]) -> ProducerState? {
        guard ProducerSnapshotFile.problem(in: bytes) == nil else { return nil }
        func int<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T { bytes[at..<(at + MemoryLayout<T>.size)].reduce(T.zero) { $0 << 8 | T($1) } }
        let count = Int(int(6, Int32.self))
        var state = ProducerState()
        for index in 0..<count {
            let at = 10 + index * 46
            let lastOffset = int(at + 14, Int64.self)
            let lastSequence = int(at + 10, Int32.self)
            let delta = int(at + 22, Int32.self)
            state.entries[int(at, Int64.self)] = Entry(
                epoch: int(at + 8, Int16.self),
                batches: [Batch(firstSequence: lastSequence &- delta, lastSequence: lastSequence, firstOffset: lastOffset - Int64(delta),
                                lastOffset: lastOffset, timestamp: int(at + 26, Int64.self))],
                coordinatorEpoch: int(at + 34, Int32.self))
        }
        return state
    }
}
