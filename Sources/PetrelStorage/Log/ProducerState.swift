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

    // MARK: Snapshots (Kafka's ProducerSnapshot v1, see `ProducerSnapshotFile`)

    /// The snapshot file's bytes. Only each producer's last batch is kept, as in Kafka.
    func snapshotBytes() -> [UInt8] {
        let producers = entries.filter { !$0.value.batches.isEmpty }.sorted { $0.key < $1.key }
        return ProducerSnapshotFile.encode(producers.map { producerId, entry in
            let last = entry.batches.last!
            return ProducerSnapshotFile.Entry(
                producerId: producerId, producerEpoch: entry.epoch, lastSequence: last.lastSequence, lastOffset: last.lastOffset,
                // A batch spans at most Int32.max offsets (its lastOffsetDelta is an int32).
                offsetDelta: Int32(truncatingIfNeeded: last.lastOffset - last.firstOffset), timestamp: last.timestamp,
                coordinatorEpoch: entry.coordinatorEpoch, currentTransactionFirstOffset: -1)
        })
    }

    /// Reads a snapshot; nil when it is not a valid v1 snapshot (it is then ignored, and the state
    /// rebuilt from the log, as Kafka does).
    static func fromSnapshot(_ bytes: [UInt8]) -> ProducerState? {
        guard let decoded = ProducerSnapshotFile.decode(bytes) else { return nil }
        var state = ProducerState()
        for entry in decoded {
            state.entries[entry.producerId] = Entry(
                epoch: entry.producerEpoch,
                batches: [Batch(firstSequence: entry.lastSequence &- entry.offsetDelta, lastSequence: entry.lastSequence,
                                firstOffset: entry.lastOffset - Int64(entry.offsetDelta), lastOffset: entry.lastOffset,
                                timestamp: entry.timestamp)],
                coordinatorEpoch: entry.coordinatorEpoch)
        }
        return state
    }
}
