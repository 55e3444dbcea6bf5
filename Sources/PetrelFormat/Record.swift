/// One record of a batch, borrowing its key, value and headers from the batch's bytes (or from
/// the decompressed records an iterator owns).
///
/// A `nil` key or value is Kafka's null (length −1), distinct from an empty one (length 0); a
/// null value is a tombstone for compaction. Valid only while its iterator and the batch's
/// bytes are alive.
public struct Record {
    public let offset: Int64
    public let offsetDelta: Int32
    /// The record's timestamp: `baseTimestamp + timestampDelta`, or the batch's `maxTimestamp`
    /// for LogAppendTime batches.
    public let timestamp: Int64
    public let timestampDelta: Int64
    /// Unused by Kafka (always 0), kept for byte-exact round trips.
    public let attributes: Int8
    public let key: UnsafeRawBufferPointer?
    public let value: UnsafeRawBufferPointer?
    public let headers: RecordHeaders
    /// Size of the record on the wire, including its length varint.
    public let sizeBytes: Int
}

/// One record header: a UTF-8 key (never null) and a value that may be null.
public struct RecordHeader {
    public let key: UnsafeRawBufferPointer
    public let value: UnsafeRawBufferPointer?
}

/// The headers of one record, decoded lazily from bytes that were validated when the record
/// was read.
public struct RecordHeaders: Sequence {
    public let count: Int
    /// The encoded headers (after the header count).
    let encoded: UnsafeRawBufferPointer

    public func makeIterator() -> Iterator { Iterator(reader: ByteReader(encoded, origin: 0), remaining: count) }

    public struct Iterator: IteratorProtocol {
        var reader: ByteReader
        var remaining: Int

        public mutating func next() -> RecordHeader? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            do {
                let keyLength = Int(try reader.readVarint())
                let key = try reader.readBytes(keyLength)
                let valueLength = Int(try reader.readVarint())
                let value = valueLength < 0 ? nil : try reader.readBytes(valueLength)
                return RecordHeader(key: key, value: value)
            } catch {
                preconditionFailure("headers were validated when their record was read: \(error)")
            }
        }
    }
}
