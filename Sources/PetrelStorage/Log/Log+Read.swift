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
}

extension Log {
    /// Lends whole batches starting with the one holding `fromOffset`, up to `maxBytes` — but at
    /// least one batch, so a batch larger than `maxBytes` never blocks a reader.
    ///
    /// Readers see only acknowledged (published) batches, never a torn one. The bytes are lent,
    /// not copied, and stay valid until `body` returns.
    /// - Throws: `.offsetOutOfRange` outside [logStartOffset, logEndOffset].
    public func read<R>(fromOffset: Int64, maxBytes: Int, _ body: (LogReadSlice) throws -> R) throws -> R {
        precondition(maxBytes >= 0, "maxBytes cannot be negative")
        return try structureLock.withReadLock { () throws -> R in
            let end = logEndOffset
            let start = logStartOffset
            guard fromOffset >= start && fromOffset <= end else {
                throw StorageError(.offsetOutOfRange(requested: fromOffset, logStartOffset: start, logEndOffset: end), path: directory)
            }
            var index = segmentIndex(holding: fromOffset)
            while index < segments.count {
                let segment = segments[index]
                let slice = try segment.withReadableBytes { (bytes, offsetIndex) throws(StorageError) -> LogReadSlice? in
                    guard let first = Segment.findBatch(holding: fromOffset, in: bytes, index: offsetIndex) else { return nil }
                    var endPosition = first.endPosition
                    while let next = BatchHeader(in: bytes, at: endPosition), next.endPosition - first.position <= maxBytes {
                        endPosition = next.endPosition
                    }
                    return LogReadSlice(bytes: UnsafeRawBufferPointer(rebasing: bytes[first.position..<endPosition]),
                                        firstBatchBaseOffset: first.baseOffset, segmentBaseOffset: segment.baseOffset,
                                        filePosition: first.position)
                }
                if let slice { return try body(slice) }
                index += 1  // the offset falls in a gap past this segment's end
            }
            return try body(LogReadSlice(bytes: UnsafeRawBufferPointer(start: nil, count: 0), firstBatchBaseOffset: nil,
                                         segmentBaseOffset: segments.last!.baseOffset, filePosition: segments.last!.publishedBytes))
        }
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
    public func offset(forTimestamp timestamp: Int64) throws -> (offset: Int64, timestamp: Int64)? {
        try structureLock.withReadLock { () throws -> (offset: Int64, timestamp: Int64)? in
            let start = logStartOffset
            for segment in segments where segment.nextOffset > start || segment.isActive {
                let timeIndex = try segment.readableTimeIndex()
                let from = max(timeIndex.lookup(timestamp), start)
                let found = try segment.withReadableBytes { (bytes, offsetIndex) throws(StorageError) -> (offset: Int64, timestamp: Int64)? in
                    guard var header = Segment.findBatch(holding: from, in: bytes, index: offsetIndex) else { return nil }
                    while true {
                        if header.maxTimestamp >= timestamp {
                            do throws(FormatError) {
                                let batch = try RecordBatch(parsing: bytes, at: header.position, verifyingCRC: false)
                                var iterator = try batch.makeRecordIterator()
                                while let record = try iterator.next() {
                                    if record.offset >= from && record.timestamp >= timestamp { return (record.offset, record.timestamp) }
                                }
                            } catch {
                                throw StorageError(.corrupt(reason: error.description), path: segment.logPath, position: Int64(header.position))
                            }
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
}
