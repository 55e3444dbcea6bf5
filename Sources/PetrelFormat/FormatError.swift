/// Why bytes could not be decoded as Kafka RecordBatch v2 data, and where.
///
/// Every decoder in PetrelFormat throws this and nothing else: bad input is an operating error
/// (a damaged file, a misbehaving client), never a crash. `position` is a byte position in the
/// buffer handed to the decoder, so a caller that read that buffer from a file at some file
/// position can add the two and point an operator at the exact byte.
public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Equatable, Sendable {
        /// Fewer bytes are available than the structure needs.
        case truncated(neededBytes: Int, availableBytes: Int)
        /// The batch's `length` field cannot describe a v2 batch (less than the header, or negative).
        case invalidBatchLength(Int32)
        /// The batch's `length` field exceeds the configured batch size bound.
        case batchTooLarge(sizeBytes: Int, limitBytes: Int)
        /// The magic byte is not 2: only RecordBatch v2 is supported.
        case unsupportedMagic(Int8)
        /// The stored CRC32C does not match the bytes from `attributes` to the end of the batch.
        case crcMismatch(stored: UInt32, computed: UInt32)
        /// `recordsCount` is negative or does not fit `lastOffsetDelta`.
        case invalidRecordsCount(recordsCount: Int32, lastOffsetDelta: Int32)
        /// `lastOffsetDelta` is negative.
        case invalidLastOffsetDelta(Int32)
        /// The attributes name a compression codec that does not exist (5, 6 or 7).
        case unknownCompressionCodec(Int)
        /// The codec exists but this build cannot handle it.
        case unsupportedCompressionCodec(CompressionCodec)
        /// A varint or varlong runs past 5 or 10 bytes, or sets bits its type cannot hold.
        case malformedVarint
        /// A record's declared length is negative or runs past the records section.
        case invalidRecordLength(Int64)
        /// A record's declared length differs from the bytes its fields use.
        case recordLengthMismatch(declared: Int, consumed: Int)
        /// A key, value, header key or header value length is below -1 or past the record's end.
        case invalidFieldLength(field: Field, length: Int64)
        /// A header count is negative or cannot fit in the record.
        case invalidHeaderCount(Int64)
        /// A record's offset delta goes backwards or past `lastOffsetDelta`.
        case invalidOffsetDelta(offsetDelta: Int32, lastOffsetDelta: Int32)
        /// The records section holds a different number of records than `recordsCount`.
        case recordsCountMismatch(declared: Int32, found: Int)
        /// Bytes remain after the last record.
        case trailingBytes(count: Int)
        /// Decompressed records would exceed the configured bound.
        case decompressedSizeLimitExceeded(limitBytes: Int)
        /// The compression library rejected the data.
        case decompressionFailed(codec: CompressionCodec, detail: String)
        /// The compression library failed to compress (out of memory, or an invalid level).
        case compressionFailed(codec: CompressionCodec, detail: String)
        /// A control record's key or value does not have the layout of its type.
        case invalidControlRecord(detail: String)
    }

    /// The record field a length belongs to.
    public enum Field: String, Equatable, Sendable {
        case key, value, headerKey = "header key", headerValue = "header value"
    }

    public var reason: Reason
    /// Byte position of the problem in the buffer given to the decoder. For a problem inside
    /// compressed records it is the start of the records section; see `decompressedPosition`.
    public var position: Int
    /// For problems inside compressed records: the byte position within the decompressed records.
    public var decompressedPosition: Int?
    /// Base offset of the batch concerned, once its header could be read.
    public var baseOffset: Int64?

    public init(_ reason: Reason, position: Int, decompressedPosition: Int? = nil, baseOffset: Int64? = nil) {
        self.reason = reason
        self.position = position
        self.decompressedPosition = decompressedPosition
        self.baseOffset = baseOffset
    }

    public var description: String {
        var text = "\(reasonDescription) at byte \(position)"
        if let decompressedPosition { text += " (byte \(decompressedPosition) of the decompressed records)" }
        if let baseOffset { text += " in the batch at base offset \(baseOffset)" }
        return text
    }

    private var reasonDescription: String {
        switch reason {
        case let .truncated(needed, available):
            return "truncated: \(needed) bytes needed, \(available) available"
        case let .invalidBatchLength(length):
            return "invalid batch length \(length)"
        case let .batchTooLarge(size, limit):
            return "batch of \(size) bytes exceeds the \(limit)-byte bound"
        case let .unsupportedMagic(magic):
            return "unsupported magic \(magic) (only RecordBatch v2 is supported)"
        case let .crcMismatch(stored, computed):
            return "CRC32C mismatch: stored \(hex(stored)), computed \(hex(computed))"
        case let .invalidRecordsCount(count, delta):
            return "invalid recordsCount \(count) for lastOffsetDelta \(delta)"
        case let .invalidLastOffsetDelta(delta):
            return "invalid lastOffsetDelta \(delta)"
        case let .unknownCompressionCodec(id):
            return "unknown compression codec \(id)"
        case let .unsupportedCompressionCodec(codec):
            return "compression codec \(codec) is not supported by this build"
        case .malformedVarint:
            return "malformed varint"
        case let .invalidRecordLength(length):
            return "invalid record length \(length)"
        case let .recordLengthMismatch(declared, consumed):
            return "record declares \(declared) bytes but its fields use \(consumed)"
        case let .invalidFieldLength(field, length):
            return "invalid \(field.rawValue) length \(length)"
        case let .invalidHeaderCount(count):
            return "invalid header count \(count)"
        case let .invalidOffsetDelta(delta, last):
            return "record offset delta \(delta) out of order or past lastOffsetDelta \(last)"
        case let .recordsCountMismatch(declared, found):
            return "recordsCount says \(declared) records, the batch holds \(found)"
        case let .trailingBytes(count):
            return "\(count) bytes after the last record"
        case let .decompressedSizeLimitExceeded(limit):
            return "decompressed records exceed the \(limit)-byte bound"
        case let .decompressionFailed(codec, detail):
            return "\(codec) decompression failed: \(detail)"
        case let .compressionFailed(codec, detail):
            return "\(codec) compression failed: \(detail)"
        case let .invalidControlRecord(detail):
            return "invalid control record: \(detail)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
