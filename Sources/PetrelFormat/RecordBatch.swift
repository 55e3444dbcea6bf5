/// A read-only, zero-copy view of one Kafka RecordBatch v2.
///
/// Made by `init(parsing:at:limits:verifyingCRC:)`, which checks the header (magic, length
/// against the available bytes and the bound, CRC32C, counts) before any field is trusted. The
/// view borrows its bytes: it must not outlive the buffer it was parsed from. Records are
/// decoded lazily, see `makeRecordIterator(limits:)`.
public struct RecordBatch {
    /// Exactly the batch's bytes: `length` + 12 of them.
    public let bytes: UnsafeRawBufferPointer
    /// Where the batch starts in the buffer it was parsed from; errors are reported relative to it.
    public let position: Int

    /// Parses and validates the batch that starts at `position` in `buffer`.
    ///
    /// - Throws: `FormatError` when the bytes are not a whole, valid v2 batch header with a
    ///   matching CRC. The records themselves are checked as they are iterated.
    public init(
        parsing buffer: UnsafeRawBufferPointer,
        at position: Int = 0,
        limits: DecodeLimits = .default,
        verifyingCRC: Bool = true
    ) throws(FormatError) {
        precondition(position >= 0 && position <= buffer.count, "batch position outside the buffer")
        let available = buffer.count - position
        guard available >= RecordBatchLayout.logOverheadBytes else {
            throw FormatError(.truncated(neededBytes: RecordBatchLayout.logOverheadBytes, availableBytes: available),
                              position: position)
        }
        let base = buffer.baseAddress! + position
        let baseOffset = Int64(bigEndian: base.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        let length = Int32(bigEndian: base.loadUnaligned(fromByteOffset: RecordBatchLayout.lengthPosition, as: Int32.self))
        let minimumLength = RecordBatchLayout.headerBytes - RecordBatchLayout.logOverheadBytes
        guard length >= Int32(minimumLength) else {
            throw FormatError(.invalidBatchLength(length), position: position + RecordBatchLayout.lengthPosition,
                              baseOffset: baseOffset)
        }
        let size = Int(length) + RecordBatchLayout.logOverheadBytes
        guard size <= limits.batchBytesMax else {
            throw FormatError(.batchTooLarge(sizeBytes: size, limitBytes: limits.batchBytesMax),
                              position: position + RecordBatchLayout.lengthPosition, baseOffset: baseOffset)
        }
        // The magic byte is checked before the length is held against the available bytes, so
        // that a v0/v1 message set is named as such rather than as a truncated batch.
        if available > RecordBatchLayout.magicPosition {
            let magic = base.load(fromByteOffset: RecordBatchLayout.magicPosition, as: Int8.self)
            guard magic == RecordBatchLayout.currentMagic else {
                throw FormatError(.unsupportedMagic(magic), position: position + RecordBatchLayout.magicPosition,
                                  baseOffset: baseOffset)
            }
        }
        guard size <= available else {
            throw FormatError(.truncated(neededBytes: size, availableBytes: available), position: position,
                              baseOffset: baseOffset)
        }
        self.bytes = UnsafeRawBufferPointer(start: base, count: size)
        self.position = position
        try validateHeader(verifyingCRC: verifyingCRC)
    }

    private func validateHeader(verifyingCRC: Bool) throws(FormatError) {
        if verifyingCRC {
            let computed = computedCRC
            guard computed == crc else {
                throw error(.crcMismatch(stored: crc, computed: computed), at: RecordBatchLayout.crcPosition)
            }
        }
        guard lastOffsetDelta >= 0 else {
            throw error(.invalidLastOffsetDelta(lastOffsetDelta), at: RecordBatchLayout.lastOffsetDeltaPosition)
        }
        // Compaction may remove records but keeps lastOffsetDelta, so fewer records than
        // offsets is valid; more is not.
        guard recordsCount >= 0, Int64(recordsCount) <= Int64(lastOffsetDelta) + 1 else {
            throw error(.invalidRecordsCount(recordsCount: recordsCount, lastOffsetDelta: lastOffsetDelta),
                        at: RecordBatchLayout.recordsCountPosition)
        }
        let codecID = Int(attributes & RecordBatchLayout.compressionCodecMask)
        guard CompressionCodec(rawValue: Int16(codecID)) != nil else {
            throw error(.unknownCompressionCodec(codecID), at: RecordBatchLayout.attributesPosition)
        }
    }

    func error(_ reason: FormatError.Reason, at offsetInBatch: Int) -> FormatError {
        FormatError(reason, position: position + offsetInBatch, baseOffset: baseOffset)
    }

    // MARK: Header fields

    @inlinable func int64(at offset: Int) -> Int64 { Int64(bigEndian: bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: Int64.self)) }
    @inlinable func int32(at offset: Int) -> Int32 { Int32(bigEndian: bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: Int32.self)) }
    @inlinable func int16(at offset: Int) -> Int16 { Int16(bigEndian: bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: Int16.self)) }

    /// Offset of the first record (the broker assigns it; producers send 0).
    public var baseOffset: Int64 { int64(at: RecordBatchLayout.baseOffsetPosition) }
    /// Bytes after the `length` field: the batch is `length + 12` bytes.
    public var length: Int32 { int32(at: RecordBatchLayout.lengthPosition) }
    /// Total size of the batch in bytes.
    public var sizeBytes: Int { bytes.count }
    public var partitionLeaderEpoch: Int32 { int32(at: RecordBatchLayout.partitionLeaderEpochPosition) }
    public var magic: Int8 { bytes.load(fromByteOffset: RecordBatchLayout.magicPosition, as: Int8.self) }
    /// The stored CRC32C.
    public var crc: UInt32 { UInt32(bitPattern: int32(at: RecordBatchLayout.crcPosition)) }
    /// The CRC32C of the bytes the stored CRC covers (attributes to the end).
    public var computedCRC: UInt32 {
        CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchLayout.attributesPosition...]))
    }
    public var attributes: Int16 { int16(at: RecordBatchLayout.attributesPosition) }
    public var lastOffsetDelta: Int32 { int32(at: RecordBatchLayout.lastOffsetDeltaPosition) }
    /// Timestamp of the first record, or the delete horizon when `hasDeleteHorizon`.
    public var baseTimestamp: Int64 { int64(at: RecordBatchLayout.baseTimestampPosition) }
    public var maxTimestamp: Int64 { int64(at: RecordBatchLayout.maxTimestampPosition) }
    public var producerId: Int64 { int64(at: RecordBatchLayout.producerIdPosition) }
    public var producerEpoch: Int16 { int16(at: RecordBatchLayout.producerEpochPosition) }
    public var baseSequence: Int32 { int32(at: RecordBatchLayout.baseSequencePosition) }
    /// Number of records in the batch (counted before compression).
    public var recordsCount: Int32 { int32(at: RecordBatchLayout.recordsCountPosition) }

    /// Offset of the last record: `baseOffset + lastOffsetDelta`.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// The offset after this batch.
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// Sequence number of the last record, wrapping from Int32.max to 0 as Kafka does.
    public var lastSequence: Int32 {
        guard baseSequence >= 0 else { return -1 }
        let last = Int64(baseSequence) + Int64(lastOffsetDelta)
        return Int32(truncatingIfNeeded: last > Int64(Int32.max) ? last - Int64(Int32.max) - 1 : last)
    }

    /// Validated at parse time, so this is always a known codec.
    public var compressionCodec: CompressionCodec {
        CompressionCodec(rawValue: attributes & RecordBatchLayout.compressionCodecMask)!
    }
    public var timestampType: TimestampType {
        attributes & RecordBatchLayout.timestampTypeMask != 0 ? .logAppendTime : .createTime
    }
    public var isTransactional: Bool { attributes & RecordBatchLayout.transactionalMask != 0 }
    public var isControl: Bool { attributes & RecordBatchLayout.controlMask != 0 }
    public var hasDeleteHorizon: Bool { attributes & RecordBatchLayout.deleteHorizonMask != 0 }

    /// The records section as stored (compressed when `compressionCodec != .none`).
    public var recordsSection: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[RecordBatchLayout.headerBytes...])
    }
}
