internal import PetrelFormat

/// Options of one cleaning pass that come from the cleaner rather than from the log's config.
public struct CleaningOptions: Sendable {
    /// The time the pass runs at: tombstones' delete horizons are set from and compared with
    /// it, and `min.compaction.lag.ms` is measured to it.
    public var nowMs: Int64
    /// Bytes of each read buffer and of the write buffer (Kafka's `log.cleaner.io.buffer.size`
    /// split between them).
    public var ioBufferBytes: Int = 256 << 10
    /// Called with the bytes read or written, to hold the pass to
    /// `log.cleaner.io.max.bytes.per.second`.
    public var throttle: CleanerThrottle?
    public var hooks: CleanerHooks?

    public init(nowMs: Int64, ioBufferBytes: Int = 256 << 10, throttle: CleanerThrottle? = nil, hooks: CleanerHooks? = nil) {
        self.nowMs = nowMs
        self.ioBufferBytes = ioBufferBytes
        self.throttle = throttle
        self.hooks = hooks
    }
}

/// The pass gave up: the log changed under it.
struct CleaningAborted: Error {
    let reason: String
}

extension Log {
    /// One cleaning pass (Kafka's `Cleaner.doClean`): builds `map` from the dirty section
    /// `[checkpoint, firstUncleanableOffset)`, then rewrites every sealed segment below where the
    /// map ends, in groups merged up to `segment.bytes`, keeping per key the latest record
    /// (`BatchFilter`). Each group's output is swapped in by Kafka's crash-safe protocol:
    /// `.cleaned` files written and fsynced, renamed `.swap`, the replaced segments renamed
    /// `.deleted`, the `.swap` files renamed to their final names (`Log.open` finishes or rolls
    /// back a pass a crash cut short, `SwapRecovery`).
    ///
    /// Runs beside appends and reads: it reads only sealed segments, holding leases on them, and
    /// takes the structure lock only to swap. A truncation, or the removal of a segment it is
    /// cleaning (retention, `deleteRecords`), makes it give up before its next swap
    /// (`CleaningResult.abortedBecause`); what it swapped before stays.
    ///
    /// - Returns: the range cleaned; `endOffset` is the checkpoint to keep.
    /// - Throws: `StorageError` when a file could not be read or written; the log is taken
    ///   offline when it fails half-way through a swap (its files then need `Log.open`).
    public func clean(checkpoint: Int64?, map: OffsetMap, options: CleaningOptions) throws(StorageError) -> CleaningResult {
        let (exchanged, _) = cleaningInProgress.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        precondition(exchanged, "two cleaning passes of one log at once: the cleaner assigns a log to one thread")
        defer { cleaningInProgress.store(false, ordering: .releasing) }
        let generation = cleaningGeneration.load(ordering: .acquiring)
        let range = try cleanableRange(checkpoint: checkpoint, nowMs: options.nowMs)
        var result = CleaningResult(firstDirtyOffset: range.firstDirtyOffset, endOffset: range.firstDirtyOffset)
        // With nothing dirty the pass still rewrites the clean head: a pass chosen because
        // tombstones' delete horizons passed (or run by hand) removes them there.
        do {
            try buildOffsetMap(range: range, map: map, generation: generation, options: options, result: &result)
            try options.hooks?.atStep(.offsetMapBuilt, range.firstDirtyOffset)
            let groups = try segmentGroups(below: result.endOffset)
            let producers = queueCondition.withLock { producerState.entries.compactMapValues { $0.batches.last?.lastOffset } }
            let filter = BatchFilter(map: map, nowMs: options.nowMs, deleteRetentionMs: config.deleteRetentionMs, lastBatchOfProducers: producers)
            var counts = BatchFilter.Counts()
            for group in groups {
                try cleanGroup(group, filter: filter, generation: generation, options: options, counts: &counts, result: &result)
            }
            result.recordsRemoved = counts.recordsRemoved
            result.tombstonesRemoved = counts.tombstonesRemoved
            result.keylessRecordsRemoved = counts.keylessRemoved
            result.earliestDeleteHorizonMs = counts.earliestDeleteHorizonMs
        } catch let aborted as CleaningAborted {
            result.abortedBecause = aborted.reason
        } catch let error as StorageError {
            throw error
        } catch {
            preconditionFailure("a cleaning pass throws StorageError or CleaningAborted: \(error)")
        }
        return result
    }

    /// Puts every keyed record of `[firstDirty, firstUncleanable)` into `map`, until it fills.
    private func buildOffsetMap(range: CleanableRange, map: OffsetMap, generation: UInt64, options: CleaningOptions,
                                result: inout CleaningResult) throws {
        map.clear()
        let dirty = try structureLock.withReadLock { () throws(StorageError) -> [(Segment, SegmentLease)] in
            var leased: [(Segment, SegmentLease)] = []
            for index in 0..<(segments.count - 1) {
                let segment = segments[index]
                guard segments[index + 1].baseOffset > range.firstDirtyOffset, segment.baseOffset < range.firstUncleanableOffset else { continue }
                leased.append((segment, try segment.lease(position: 0, count: segment.publishedBytes)))
            }
            return leased
        }
        defer { for (_, lease) in dirty { lease.release() } }
        var full = false
        for (segment, lease) in dirty {
            // The map's read skips the CRC: the rewrite checks every batch it writes from.
            result.dirtyBytesRead += try forEachBatch(of: segment, lease: lease, verifyingCRC: false, generation: generation,
                                                      options: options) { (batch, _) throws(StorageError) in
                guard batch.lastOffset >= range.firstDirtyOffset, batch.baseOffset < range.firstUncleanableOffset else { return true }
                if !batch.isControl {
                    do throws(FormatError) {
                        var records = try batch.makeRecordIterator(limits: DecodeLimits(batchBytesMax: Int(Int32.max), decompressedBytesMax: Int(Int32.max)))
                        while let record = try records.next() {
                            guard record.offset >= range.firstDirtyOffset, let key = record.key else { continue }
                            guard map.put(KeyDigest(key), offset: record.offset) else {
                                full = true
                                return false
                            }
                            map.latestOffset = record.offset
                        }
                    } catch {
                        throw StorageError(.corrupt(reason: error.description), path: segment.logPath, offset: batch.baseOffset)
                    }
                }
                map.latestOffset = batch.lastOffset
                return true
            }
            if full { break }
        }
        result.offsetMapFilled = full
        result.endOffset = full ? map.latestOffset + 1 : range.firstUncleanableOffset
        if !full { map.latestOffset = range.firstUncleanableOffset - 1 }
    }

    /// Calls `body` with each batch of a leased segment, in order, and its file position, holding
    /// the pass to its throttle and giving up when the log was truncated or closed meanwhile;
    /// `body` returns false to stop before the segment's end. Returns the bytes read.
    func forEachBatch(of segment: Segment, lease: SegmentLease, verifyingCRC: Bool, generation: UInt64, options: CleaningOptions,
                      _ body: (RecordBatch, Int) throws(StorageError) -> Bool) throws -> Int64 {
        var batches = SegmentFileBatches(descriptor: lease.descriptor, path: segment.logPath, fileBytes: lease.count, io: io,
                                         bufferBytes: options.ioBufferBytes, verifyingCRC: verifyingCRC)
        var bytesRead: Int64 = 0
        var goOn = true
        while goOn {
            var read = 0
            let more = try batches.next { (batch, position) throws(StorageError) in
                read = batch.sizeBytes
                goOn = try body(batch, position)
            }
            guard more else { break }
            bytesRead += Int64(read)
            options.throttle?.consume(bytes: read)
            if cleaningGeneration.load(ordering: .acquiring) != generation { throw CleaningAborted(reason: "the log was truncated or closed") }
        }
        return bytesRead
    }

    /// The sealed segments wholly below `endOffset`, in groups whose total size stays within
    /// `segment.bytes` and whose offsets stay within one segment's 32-bit relative range.
    private func segmentGroups(below endOffset: Int64) throws(StorageError) -> [[(segment: Segment, end: Int64)]] {
        structureLock.withReadLock {
            var groups: [[(segment: Segment, end: Int64)]] = []
            var current: [(segment: Segment, end: Int64)] = []
            var currentBytes = 0
            for index in 0..<(segments.count - 1) {
                let segment = segments[index]
                let end = segments[index + 1].baseOffset
                guard segment.baseOffset < endOffset else { break }
                if let first = current.first,
                   currentBytes + segment.publishedBytes > config.segmentBytes || end - 1 - first.segment.baseOffset > Int64(Int32.max) {
                    groups.append(current)
                    current = []
                    currentBytes = 0
                }
                current.append((segment, end))
                currentBytes += segment.publishedBytes
            }
            if !current.isEmpty { groups.append(current) }
            return groups
        }
    }
}
