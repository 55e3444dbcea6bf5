public import PetrelFormat

/// Whole batches lent by `Log.read`: a byte range of one segment, valid only inside the closure.
public struct LogReadSlice {
    /// Whole RecordBatch v2 batches; empty at the log end.
    public let bytes: UnsafeRawBufferPointer
    /// Base offset of the first batch in `bytes` (may be below the requested offset: reads start
    /// at the batch holding it, as Kafka's fetch does).
    public let firstBatchBaseOffset: Int64?
    /// The segment the bytes come from and their byte position in its `.log` file, for
    /// zero-copy sends (sendfile) by a broker.
    public let segmentBaseOffset: Int64
    public let filePosition: Int
    /// The segment read; nil at the log end.
    let segment: Segment?

    /// A lease on these bytes' range of the segment file, to send them after the read's closure
    /// returns (`sendfile`): taken while the read holds the log's structure, it keeps the range
    /// readable through its descriptor until `release()`, whatever retention or truncation do
    /// meanwhile. Only inside the closure, and only for a non-empty slice.
    public func lease() throws(StorageError) -> SegmentLease {
        guard let segment, !bytes.isEmpty else { preconditionFailure("a lease on no bytes (the log end)") }
        return try segment.lease(position: filePosition, count: bytes.count)
    }
}

/// What reading one segment gave: `body`'s result, that the offset is past its end, or that
/// from it the segment holds only batches without records.
private enum ReadOutcome<R> {
    case read(R)
    case notInSegment
    case onlyEmptyBatches
}

extension Log {
    /// Lends whole batches starting with the one holding `fromOffset`, up to `maxBytes` — but at
    /// least one batch, so a batch larger than `maxBytes` never blocks a reader.
    ///
    /// Readers see only acknowledged (published) batches, never a torn one. The bytes are lent,
    /// not copied, and stay valid until `body` returns.
    /// - Throws: `.offsetOutOfRange` outside [logStartOffset, logEndOffset].
    ///
    /// With `passingOverEmptySegments` (a consumer's fetch), a segment that holds from
    /// `fromOffset` on only batches compaction emptied is passed over for the next one with
    /// records (see below); without it (producer-state replay, tools), every batch is returned.
    public func read<R>(fromOffset: Int64, maxBytes: Int, passingOverEmptySegments: Bool = false,
                        _ body: (LogReadSlice) throws -> R) throws -> R {
        precondition(maxBytes >= 0, "maxBytes cannot be negative")
        return try structureLock.withReadLock { () throws -> R in
            let end = logEndOffset
            let start = logStartOffset
            guard fromOffset >= start && fromOffset <= end else {
                throw StorageError(.offsetOutOfRange(requested: fromOffset, logStartOffset: start, logEndOffset: end), path: directory)
            }
            var index = segmentIndex(holding: fromOffset)
            // A segment holding nothing but batches compaction emptied is passed over for the
            // next one with records, as a consumer would pass over it: a run of such segments
            // would otherwise cost a fetch each, and librdkafka takes a fetch that yields no
            // record as one too small, giving up after ten (MSG_SIZE_TOO_LARGE). Only when no
            // record follows is the first of them returned, so the reader still moves on.
            var onlyEmptyAt: Int?
            var passOverEmpty = passingOverEmptySegments
            while index < segments.count {
                let segment = segments[index]
                // `body` runs inside `withReadableBytes`, which keeps the segment's mapping alive
                // until it returns: a handle cache evicting the segment meanwhile must not unmap
                // the bytes `body` is reading.
                var bodyError: (any Error)?
                let skipEmpty = passOverEmpty && index < segments.count - 1
                let outcome = try segment.withReadableBytes { (bytes, offsetIndex) throws(StorageError) -> ReadOutcome<R> in
                    guard let first = Segment.findBatch(holding: fromOffset, in: bytes, index: offsetIndex) else { return .notInSegment }
                    if skipEmpty && Self.holdsOnlyEmptyBatches(bytes, from: first) { return .onlyEmptyBatches }
                    var endPosition = first.endPosition
                    while let next = BatchHeader(in: bytes, at: endPosition), next.endPosition - first.position <= maxBytes {
                        endPosition = next.endPosition
                    }
                    let slice = LogReadSlice(bytes: UnsafeRawBufferPointer(rebasing: bytes[first.position..<endPosition]),
                                             firstBatchBaseOffset: first.baseOffset, segmentBaseOffset: segment.baseOffset,
                                             filePosition: first.position, segment: segment)
                    do { return .read(try body(slice)) } catch {
                        bodyError = error
                        return .notInSegment
                    }
                }
                if let bodyError { throw bodyError }
                switch outcome {
                case let .read(result): return result
                case .onlyEmptyBatches: if onlyEmptyAt == nil { onlyEmptyAt = index }
                case .notInSegment: break  // the offset falls in a gap past this segment's end
                }
                index += 1
                if index == segments.count, let first = onlyEmptyAt {
                    // No record after the emptied batches: return them after all.
                    index = first
                    passOverEmpty = false
                    onlyEmptyAt = nil
                }
            }
            return try body(LogReadSlice(bytes: UnsafeRawBufferPointer(start: nil, count: 0), firstBatchBaseOffset: nil,
                                         segmentBaseOffset: segments.last!.baseOffset, filePosition: segments.last!.publishedBytes,
                                         segment: nil))
        }
    }

    /// Whole batches from the one holding `fromOffset`, up to `maxBytes` (at least one batch), as
    /// a leased range of a segment file, for a sender that writes them after this returns;
    /// nil at the log end. The caller releases the lease once the bytes are sent.
    /// - Throws: `.offsetOutOfRange` outside [logStartOffset, logEndOffset].
    public func lease(fromOffset: Int64, maxBytes: Int) throws -> SegmentLease? {
        try read(fromOffset: fromOffset, maxBytes: maxBytes) { slice in slice.bytes.isEmpty ? nil : try slice.lease() }
    }

    /// Whether every batch from `first` to the end of `bytes` has no record (and none is a
    /// control batch, which a transactional reader needs).
    private static func holdsOnlyEmptyBatches(_ bytes: UnsafeRawBufferPointer, from first: BatchHeader) -> Bool {
        var header: BatchHeader? = first
        while let batch = header {
            guard batch.recordsCount == 0 && !batch.isControl else { return false }
            header = BatchHeader(in: bytes, at: batch.endPosition)
        }
        return true
    }

    /// Index of the last segment whose base offset is ≤ `offset` (the first one if none is).
    func segmentIndex(holding offset: Int64) -> Int {
        var low = 0, high = segments.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if segments[middle].baseOffset <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// Up to `maxRecords` records from `fromOffset` on, copied out (for tools and tests; a
    /// broker sends batches from `read` instead).
    public func readRecords(fromOffset: Int64, maxRecords: Int, maxBytesPerRead: Int = 1 << 20) throws -> [DecodedRecord] {
        var records: [DecodedRecord] = []
        var next = fromOffset
        while records.count < maxRecords && next < logEndOffset {
            let advanced: Int64? = try read(fromOffset: next, maxBytes: maxBytesPerRead) { slice in
                var reader = RecordBatchReader(slice.bytes)
                var last: Int64?
                while let batch = try reader.next() {
                    try batch.forEachRecord { record throws(FormatError) in
                        if record.offset >= next && records.count < maxRecords { records.append(DecodedRecord(record)) }
                    }
                    last = batch.lastOffset
                }
                return last
            }
            guard let advanced else { break }
            next = advanced + 1
        }
        return records
    }

    /// The first offset whose record timestamp is ≥ `timestamp`, with that timestamp; nil when
    /// every record is older (Kafka's ListOffsets by timestamp).
    ///
    /// As Kafka's `LogSegment.findOffsetByTimestamp`: the first segment whose largest timestamp
    /// reaches `timestamp` (segments below it are skipped without being mapped when their largest
    /// timestamp is known), then its time index gives where to start, and records are filtered by
    /// the log start offset only. The time index's offset is the last offset of the first batch
    /// reaching a timestamp, so records of that batch before it may carry the same timestamp.
    public func offset(forTimestamp timestamp: Int64) throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        try structureLock.withReadLock { () throws(StorageError) -> (offset: Int64, timestamp: Int64)? in
            let start = logStartOffset
            for segment in segments where segment.nextOffset > start || segment.isActive {
                if let known = segment.knownLargestTimestamp, known.timestamp < timestamp { continue }
                let from = max(try segment.readableTimeIndex().lookup(timestamp), start)
                let found = try segment.withReadableBytes { (bytes, offsetIndex) throws(StorageError) -> (offset: Int64, timestamp: Int64)? in
                    guard var header = Segment.findBatch(holding: from, in: bytes, index: offsetIndex) else { return nil }
                    while true {
                        if header.maxTimestamp >= timestamp {
                            let record = try Self.firstRecord(in: bytes, batch: header, path: segment.logPath) {
                                $0.offset >= start && $0.timestamp >= timestamp
                            }
                            if let record { return record }
                        }
                        guard let next = BatchHeader(in: bytes, at: header.endPosition) else { return nil }
                        header = next
                    }
                }
                if let found { return found }
            }
            return nil
        }
    }

    /// The record with the largest timestamp in the log, and that timestamp: the first such
    /// record when several share it (ListOffsets with timestamp -3, `MAX_TIMESTAMP`, KIP-734).
    /// Nil when no record has a timestamp (an empty log, or only timestamps of -1).
    ///
    /// As Kafka's `UnifiedLog.fetchOffsetByTimestamp`: the first segment holding the largest
    /// timestamp (segments' largest timestamps are cached; a sealed segment not read since
    /// start-up has its time index read), then, from the offset index's position for the offset
    /// the segment keeps with it, the first batch whose max timestamp is it, and in that batch the
    /// first record carrying it. Like Kafka, the log start offset is not applied: the answer may
    /// lie below it until retention deletes that segment.
    /// - Complexity: O(segments) without I/O once the segments' largest timestamps are known.
    public func offsetOfMaxTimestamp() throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        try structureLock.withReadLock { () throws(StorageError) -> (offset: Int64, timestamp: Int64)? in
            var best: (segment: Segment, timestamp: Int64, offset: Int64)?
            for segment in segments {
                let largest = try segment.largestTimestamp()
                if largest.timestamp >= 0, largest.timestamp > best?.timestamp ?? -1 { best = (segment, largest.timestamp, largest.offset) }
            }
            guard let best else { return nil }
            return try best.segment.withReadableBytes { (bytes, offsetIndex) throws(StorageError) -> (offset: Int64, timestamp: Int64)? in
                var header = Segment.findBatch(holding: best.offset, in: bytes, index: offsetIndex)
                // The offset kept is the last of the first batch reaching the timestamp, so the
                // batch holding it is the one; scan on in case the index pointed earlier.
                while let batch = header {
                    if batch.maxTimestamp == best.timestamp {
                        return try Self.firstRecord(in: bytes, batch: batch, path: best.segment.logPath) { $0.timestamp == best.timestamp }
                    }
                    header = BatchHeader(in: bytes, at: batch.endPosition)
                }
                return nil
            }
        }
    }

    /// The first record of the batch at `batch.position` that satisfies `matches`.
    private static func firstRecord(
        in bytes: UnsafeRawBufferPointer, batch header: BatchHeader, path: String, where matches: (Record) -> Bool
    ) throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        do throws(FormatError) {
            let batch = try RecordBatch(parsing: bytes, at: header.position, verifyingCRC: false)
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                if matches(record) { return (record.offset, record.timestamp) }
            }
            return nil
        } catch {
            throw StorageError(.corrupt(reason: error.description), path: path, position: Int64(header.position), offset: header.baseOffset)
        }
    }
}
