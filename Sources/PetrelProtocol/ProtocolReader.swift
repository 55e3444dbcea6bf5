/// Reads Kafka's wire types from a frame: big-endian integers, (compact) strings, bytes and
/// arrays, unsigned varints, uuids, and tagged fields (skipped when unknown, as KIP-482 asks).
///
/// Every read is bounds-checked and throws `ProtocolError` with the byte position; counts and
/// lengths are checked against the bytes left before anything is allocated.
public struct ProtocolReader {
    public let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }

    func error(_ reason: ProtocolError.Reason, at position: Int? = nil) -> ProtocolError {
        ProtocolError(reason, position: position ?? self.position)
    }

    mutating func take(_ count: Int) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw error(.truncated(neededBytes: count, availableBytes: remaining)) }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) -> T {
        let slice = try take(MemoryLayout<T>.size)
        return slice.reduce(T.zero) { ($0 << 8) | T(truncatingIfNeeded: $1) }
    }

    public mutating func readInt8() throws(ProtocolError) -> Int8 { try integer(Int8.self) }
    public mutating func readInt16() throws(ProtocolError) -> Int16 { try integer(Int16.self) }
    public mutating func readInt32() throws(ProtocolError) -> Int32 { try integer(Int32.self) }
    public mutating func readInt64() throws(ProtocolError) -> Int64 { try integer(Int64.self) }
    public mutating func readBool() throws(ProtocolError) -> Bool { try readInt8() != 0 }

    /// An unsigned varint of at most 5 bytes (lengths, counts, tags).
    public mutating func readUnsignedVarint() throws(ProtocolError) -> UInt32 {
        let start = position
        var value: UInt32 = 0
        for shift in stride(from: 0, through: 28, by: 7) {
            let byte = UInt8(bitPattern: try readInt8())
            if shift == 28 && byte & 0xF0 != 0 { throw error(.malformedVarint, at: start) }
            value |= UInt32(byte & 0x7F) << UInt32(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw error(.malformedVarint, at: start)
    }

    public mutating func readUUID() throws(ProtocolError) -> [UInt8] { Array(try take(16)) }

    /// A string: int16 length, or (compact) uvarint length + 1; null when allowed.
    public mutating func readString(compact: Bool, field: String) throws(ProtocolError) -> String? {
        let start = position
        let length: Int64 = compact ? Int64(try readUnsignedVarint()) - 1 : Int64(try readInt16())
        if length == -1 { return nil }
        guard length >= 0 else { throw error(.invalidLength(field: field, length: length), at: start) }
        let slice = try take(Int(length))
        guard let text = String(validating: slice, as: UTF8.self) else { throw error(.invalidUTF8(field: field), at: start) }
        return text
    }

    /// A string that must not be null.
    public mutating func readNonNullString(compact: Bool, field: String) throws(ProtocolError) -> String {
        let start = position
        guard let text = try readString(compact: compact, field: field) else {
            throw error(.invalidLength(field: field, length: -1), at: start)
        }
        return text
    }

    /// Bytes: int32 length, or (compact) uvarint length + 1; null when −1 / 0.
    public mutating func readBytes(compact: Bool, field: String) throws(ProtocolError) -> ArraySlice<UInt8>? {
        let start = position
        let length: Int64 = compact ? Int64(try readUnsignedVarint()) - 1 : Int64(try readInt32())
        if length == -1 { return nil }
        guard length >= 0 else { throw error(.invalidLength(field: field, length: length), at: start) }
        return try take(Int(length))
    }

    /// An array's element count (int32, or compact uvarint + 1); nil for a null array. The count
    /// is checked against the bytes left (each element takes at least `minimumElementBytes`).
    public mutating func readArrayCount(compact: Bool, field: String, minimumElementBytes: Int = 1) throws(ProtocolError) -> Int? {
        let start = position
        let count: Int64 = compact ? Int64(try readUnsignedVarint()) - 1 : Int64(try readInt32())
        if count == -1 { return nil }
        guard count >= 0, count * Int64(max(1, minimumElementBytes)) <= Int64(remaining) else {
            throw error(.invalidLength(field: field, length: count), at: start)
        }
        return Int(count)
    }

    /// Skips a tagged-field section (none of our messages reads tags yet).
    public mutating func skipTaggedFields() throws(ProtocolError) {
        let count = try readUnsignedVarint()
        guard Int(count) <= remaining else { throw error(.invalidLength(field: "tagged fields", length: Int64(count))) }
        for _ in 0..<count {
            _ = try readUnsignedVarint()
            let size = try readUnsignedVarint()
            _ = try take(Int(size))
        }
    }

    /// Throws unless every byte was read.
    public func expectEnd() throws(ProtocolError) {
        if remaining != 0 { throw error(.trailingBytes(count: remaining)) }
    }
}
