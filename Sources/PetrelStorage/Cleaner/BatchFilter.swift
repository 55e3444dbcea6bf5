internal import PetrelFormat

/// What the cleaner keeps of one batch, by Kafka's rules (`LogCleaner.shouldRetainRecord`,
/// `MemoryRecords.filterTo`): a record is kept when it is past the offset map's reach, or it is
/// the latest record of its key and either has a value or is a tombstone whose delete horizon
/// has not passed. Keyless records of a compacted log are dropped. A batch keeps its base and
/// last offset (so its producer's sequence survives); a batch that lost every record is kept
/// empty only when it is an active producer's last, or the last of the segments cleaned.
///
/// Control batches are kept as they are. Transactions (a later issue) add Kafka's rules here:
/// aborted data removed whatever its key, markers removed once no batch of their transaction
/// is left and their own delete horizon passed (`CleanedTransactionMetadata`); the place for
/// them is `decision(for:)`'s control and transactional branches.
struct BatchFilter {
    let map: OffsetMap
    let nowMs: Int64
    let deleteRetentionMs: Int64
    /// Per producer id, the last offset of its last batch in the log (`ProducerState`).
    let lastBatchOfProducers: [Int64: Int64]

    enum Outcome {
        /// Keep the batch's bytes as they are.
        case keep
        /// Replace it with these bytes (fewer records, or a delete horizon set).
        case rewrite([UInt8], maxTimestamp: Int64)
        case drop
    }

    struct Counts {
        var recordsRemoved = 0
        var tombstonesRemoved = 0
        var keylessRemoved = 0
        /// The earliest delete horizon among batches still holding tombstones.
        var earliestDeleteHorizonMs: Int64?
    }

    /// - Parameter groupEnd: the offset after the group of segments being cleaned: the batch
    ///   ending there is kept (empty if need be), so the cleaned segment still ends where its
    ///   sources did and the next segment follows it without a gap (Kafka keeps the batch ending a
    ///   cleaning round for the same reason).
    func decision(for batch: RecordBatch, groupEnd: Int64, counts: inout Counts) throws(FormatError) -> Outcome {
        // Control batches (transaction markers): kept until transactions bring their rules.
        if batch.isControl { return .keep }
        // Wholly past the map's reach: nothing in it can be known obsolete yet.
        if batch.baseOffset > map.latestOffset { return .keep }
        let retainDeletes = !batch.hasDeleteHorizon || nowMs < batch.baseTimestamp
        var iterator = try batch.makeRecordIterator(limits: DecodeLimits(batchBytesMax: Int(Int32.max), decompressedBytesMax: Int(Int32.max)))
        // The kept records, as views into the batch (or the iterator's decompressed copy, alive
        // as long as `iterator`): one decode serves both the decision and the rebuild.
        var kept: [Record] = []
        kept.reserveCapacity(Int(batch.recordsCount))
        var total = 0
        var keptTombstones = false
        while let record = try iterator.next() {
            total += 1
            if retains(record, retainDeletes: retainDeletes, counts: &counts) {
                kept.append(record)
                if record.value == nil { keptTombstones = true }
            }
        }
        let setHorizon = keptTombstones && !batch.hasDeleteHorizon
        if keptTombstones {
            let horizon = setHorizon ? nowMs &+ deleteRetentionMs : batch.baseTimestamp
            counts.earliestDeleteHorizonMs = min(counts.earliestDeleteHorizonMs ?? .max, horizon)
        }
        if kept.count == total && !setHorizon { return .keep }
        if kept.isEmpty {
            let producersLast = batch.producerId >= 0 && lastBatchOfProducers[batch.producerId] == batch.lastOffset
            guard producersLast || batch.nextOffset == groupEnd else { return .drop }
            return .rewrite(RecordBatchBuilder.emptyBatch(like: batch), maxTimestamp: batch.maxTimestamp)
        }
        var builder = RecordBatchBuilder(rewriting: batch, deleteHorizonMs: setHorizon ? nowMs &+ deleteRetentionMs : (batch.hasDeleteHorizon ? batch.baseTimestamp : nil))
        for record in kept { builder.append(copying: record) }
        builder.keepOffsets(throughDelta: batch.lastOffsetDelta)
        let bytes = try builder.build()
        let maxTimestamp = bytes.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(fromByteOffset: RecordBatchLayout.maxTimestampPosition, as: Int64.self)) }
        withExtendedLifetime(iterator) {}
        return .rewrite(bytes, maxTimestamp: maxTimestamp)
    }

    private func retains(_ record: Record, retainDeletes: Bool, counts: inout Counts) -> Bool {
        if record.offset > map.latestOffset { return true }
        guard let key = record.key else {
            counts.keylessRemoved += 1
            counts.recordsRemoved += 1
            return false
        }
        if let latest = map.offset(of: KeyDigest(key)), record.offset < latest {
            counts.recordsRemoved += 1
            return false
        }
        if record.value == nil && !retainDeletes {
            counts.tombstonesRemoved += 1
            counts.recordsRemoved += 1
            return false
        }
        return true
    }
}
