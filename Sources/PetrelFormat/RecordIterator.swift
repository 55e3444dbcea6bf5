/// Decodes the records of one batch, one at a time, checking each against the batch header:
/// lengths, varints, offset deltas, the records count, and that no bytes remain at the end.
///
/// Uncompressed records are read in place (no allocation per record); compressed ones are
/// decompressed once, into a buffer this iterator owns, bounded by `DecodeLimits`.
public struct RecordIterator {
    private var reader: ByteReader
    private let batchBaseOffset: Int64
    private let baseTimestamp: Int64
    private let logAppendTime: Int64?
    private let declaredCount: Int32
    private let lastOffsetDelta: Int32
    private var recordsRead: Int = 0
    private var previousOffsetDelta: Int32 = -1
    /// Keeps decompressed records alive as long as records borrowed from them may be used.
    private let storage: DecompressedRecords?

    init(batch: RecordBatch, limits: DecodeLimits) throws(FormatError) {
        batchBaseOffset = batch.baseOffset
        baseTimestamp = batch.baseTimestamp
        logAppendTime = batch.timestampType == .logAppendTime ? batch.maxTimestamp : nil
        declaredCount = batch.recordsCount
        lastOffsetDelta = batch.lastOffsetDelta
        let recordsPosition = batch.position + RecordBatchLayout.headerBytes
        if batch.compressionCodec == .none {
            storage = nil
            reader = ByteReader(batch.recordsSection, origin: recordsPosition)
        } else {
            do throws(FormatError) {
                let decompressed = try Compression.decompressRecords(
                    batch.recordsSection, codec: batch.compressionCodec, outputBytesMax: limits.decompressedBytesMax)
                storage = decompressed
                reader = ByteReader(decompressed.bytes, origin: 0, compressedPosition: recordsPosition)
            } catch {
                var located = error
                located.position = recordsPosition
                located.baseOffset = batch.baseOffset
                throw located
            }
        }
    }

    /// The next record, or nil after the last one.
    ///
    /// - Throws: `FormatError` at the first malformed record, or when the number of records or
    ///   the bytes left at the end disagree with the header.
    public mutating func next() throws(FormatError) -> Record? {
        guard reader.remaining > 0 else {
            guard recordsRead == Int(declaredCount) else {
                throw located(reader.error(.recordsCountMismatch(declared: declaredCount, found: recordsRead)))
            }
            return nil
        }
        guard recordsRead < Int(declaredCount) else {
            throw located(reader.error(.trailingBytes(count: reader.remaining)))
        }
        do {
            let record = try readRecord()
            recordsRead += 1
            return record
        } catch {
            throw located(error)
        }
    }

    private func located(_ error: FormatError) -> FormatError {
        var error = error
        error.baseOffset = batchBaseOffset
        return error
    }

    private mutating func readRecord() throws(FormatError) -> Record {
        let start = reader.index
        let declaredLength = try reader.readVarint()
        guard declaredLength >= 0, Int(declaredLength) <= reader.remaining else {
            throw reader.error(.invalidRecordLength(Int64(declaredLength)), at: start)
        }
        let end = reader.index + Int(declaredLength)
        // Confine every field read to the record's declared length.
        var body = reader.subReader(Int(declaredLength))
        let attributes = try body.readInt8()
        let timestampDelta = try body.readVarlong()
        let offsetDelta = try body.readVarint()
        guard offsetDelta > previousOffsetDelta, offsetDelta <= lastOffsetDelta else {
            throw reader.error(.invalidOffsetDelta(offsetDelta: offsetDelta, lastOffsetDelta: lastOffsetDelta), at: start)
        }
        let key = try body.readNullableBytes(field: .key)
        let value = try body.readNullableBytes(field: .value)
        let headerCountAt = body.index
        let headerCount = try body.readVarint()
        // Each header takes at least two bytes, which bounds the loop below by the record's size.
        guard headerCount >= 0, Int(headerCount) <= body.remaining / 2 else {
            throw body.error(.invalidHeaderCount(Int64(headerCount)), at: headerCountAt)
        }
        let headersStart = body.index
        for _ in 0..<headerCount {
            let keyAt = body.index
            let keyLength = try body.readVarint()
            guard keyLength >= 0 else { throw body.error(.invalidFieldLength(field: .headerKey, length: Int64(keyLength)), at: keyAt) }
            _ = try body.readBytes(Int(keyLength))
            _ = try body.readNullableBytes(field: .headerValue)
        }
        let headerBytes = UnsafeRawBufferPointer(start: body.base.map { $0 + headersStart }, count: body.index - headersStart)
        guard body.remaining == 0 else {
            throw reader.error(.recordLengthMismatch(declared: Int(declaredLength), consumed: body.index), at: start)
        }
        reader.index = end
        previousOffsetDelta = offsetDelta
        return Record(
            offset: batchBaseOffset &+ Int64(offsetDelta),
            offsetDelta: offsetDelta,
            timestamp: logAppendTime ?? (baseTimestamp &+ timestampDelta),
            timestampDelta: timestampDelta,
            attributes: attributes,
            key: key,
            value: value,
            headers: RecordHeaders(count: Int(headerCount), encoded: headerBytes),
            sizeBytes: end - start)
    }
}

extension ByteReader {
    /// Reads a varint length and that many bytes; length −1 is null.
    @inlinable
    mutating func readNullableBytes(field: FormatError.Field) throws(FormatError) -> UnsafeRawBufferPointer? {
        let at = index
        let length = try readVarint()
        if length == -1 { return nil }
        guard length >= 0, Int(length) <= remaining else {
            throw error(.invalidFieldLength(field: field, length: Int64(length)), at: at)
        }
        return try readBytes(Int(length))
    }
}

extension RecordBatch {
    /// An iterator over the batch's records. Decompresses the records first when the batch is
    /// compressed, within `limits.decompressedBytesMax`.
    public func makeRecordIterator(limits: DecodeLimits = .default) throws(FormatError) -> RecordIterator {
        try RecordIterator(batch: self, limits: limits)
    }

    /// Calls `body` with each record in order, after checking it.
    public func forEachRecord(
        limits: DecodeLimits = .default, _ body: (Record) throws(FormatError) -> Void
    ) throws(FormatError) {
        var iterator = try makeRecordIterator(limits: limits)
        while let record = try iterator.next() { try body(record) }
    }
}
