/// Reads Kafka's wire types from a frame: big-endian integers, floats, (compact, nullable)
/// strings, bytes, records and arrays, unsigned varints, uuids, and tagged-field sections.
///
/// Every read is bounds-checked and throws `ProtocolError` with the byte position; counts and
/// lengths are checked against the bytes left before anything is allocated. A tagged field is
/// read inside a bound (`beginTaggedField`), so a field cannot read past the size its tag declared.
///
/// It reads a `FrameBytes` in place: records come out as ranges of the frame (`Records.frame`),
/// so the frame's memory, as it arrived, is what a produce appends.
public struct ProtocolReader {
    /// The frame read; decoded records keep it alive.
    public let frame: FrameBytes
    public private(set) var position: Int
    /// One past the last byte this reader may read: the frame's end, or a tagged field's.
    private var end: Int

    /// Reads a frame in place.
    public init(frame: FrameBytes, position: Int = 0) {
        self.frame = frame
        self.position = position
        self.end = frame.bytes.count
    }

    /// Reads a copy of `bytes` (for tests and tools).
    public init(_ bytes: [UInt8], position: Int = 0) {
        self.init(frame: FrameBytes(copying: bytes), position: position)
    }

    public var remaining: Int { end - position }

    func error(_ reason: ProtocolError.Reason, at position: Int? = nil) -> ProtocolError {
        ProtocolError(reason, position: position ?? self.position)
    }

    /// The next `count` bytes' place in the frame, consumed.
    mutating func takeRange(_ count: Int) throws(ProtocolError) -> Range<Int> {
        guard count >= 0, count <= remaining else { throw error(.truncated(neededBytes: count, availableBytes: remaining)) }
        defer { position += count }
        return position..<(position + count)
    }

    /// The next `count` bytes, in the frame's memory: valid while `frame` lives.
    mutating func take(_ count: Int) throws(ProtocolError) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: frame.bytes[try takeRange(count)])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) -> T {
        let bytes = try take(MemoryLayout<T>.size)
        return T(bigEndian: bytes.loadUnaligned(as: T.self))
    }

    public mutating func readInt8() throws(ProtocolError) -> Int8 { try integer(Int8.self) }
    public mutating func readInt16() throws(ProtocolError) -> Int16 { try integer(Int16.self) }
    public mutating func readUInt16() throws(ProtocolError) -> UInt16 { try integer(UInt16.self) }
    public mutating func readInt32() throws(ProtocolError) -> Int32 { try integer(Int32.self) }
    public mutating func readUInt32() throws(ProtocolError) -> UInt32 { try integer(UInt32.self) }
    public mutating func readInt64() throws(ProtocolError) -> Int64 { try integer(Int64.self) }
    public mutating func readFloat64() throws(ProtocolError) -> Double { Double(bitPattern: try integer(UInt64.self)) }
    public mutating func readBool() throws(ProtocolError) -> Bool { try readInt8() != 0 }
    public mutating func readErrorCode() throws(ProtocolError) -> ErrorCode { ErrorCode(rawValue: try readInt16()) }

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

    public mutating func readUuid() throws(ProtocolError) -> Uuid {
        Uuid(high: try integer(UInt64.self), low: try integer(UInt64.self))
    }

    /// A length or count: int16/int32, or (compact) uvarint − 1. −1 is null.
    private mutating func length(compact: Bool, wide: Bool) throws(ProtocolError) -> Int64 {
        if compact { return Int64(try readUnsignedVarint()) - 1 }
        return wide ? Int64(try readInt32()) : Int64(try readInt16())
    }

    /// A string: int16 length, or (compact) uvarint length + 1. Null only when `nullable`.
    public mutating func readString(compact: Bool, nullable: Bool = true, field: String) throws(ProtocolError) -> String? {
        let start = position
        let length = try length(compact: compact, wide: false)
        if length == -1 && nullable { return nil }
        guard length >= 0 else { throw error(.invalidLength(field: field, length: length), at: start) }
        let slice = try take(Int(length))
        guard let text = String(validating: slice, as: UTF8.self) else { throw error(.invalidUTF8(field: field), at: start) }
        return text
    }

    /// A string that must not be null.
    public mutating func readNonNullString(compact: Bool, field: String) throws(ProtocolError) -> String {
        let start = position
        guard let text = try readString(compact: compact, nullable: false, field: field) else {
            throw error(.invalidLength(field: field, length: -1), at: start)
        }
        return text
    }

    /// Bytes: int32 length, or (compact) uvarint length + 1; copied out of the frame (these are
    /// small fields: metadata, assignments; records are read in place by `readRecords`).
    public mutating func readBytes(compact: Bool, nullable: Bool = true, field: String) throws(ProtocolError) -> ArraySlice<UInt8>? {
        try readBytesRange(compact: compact, nullable: nullable, field: field).map { ArraySlice(frame.bytes[$0]) }
    }

    /// A bytes field's place in the frame.
    private mutating func readBytesRange(compact: Bool, nullable: Bool, field: String) throws(ProtocolError) -> Range<Int>? {
        let start = position
        let length = try length(compact: compact, wide: true)
        if length == -1 && nullable { return nil }
        guard length >= 0 else { throw error(.invalidLength(field: field, length: length), at: start) }
        guard let count = Int(exactly: length) else { throw error(.invalidLength(field: field, length: length), at: start) }
        return try takeRange(count)
    }

    /// Bytes that must not be null, copied out of the frame.
    public mutating func readNonNullBytes(compact: Bool, field: String) throws(ProtocolError) -> [UInt8] {
        Array(try readBytes(compact: compact, nullable: false, field: field) ?? [])
    }

    /// A records field: the bytes where they are in the frame, keeping it alive (no copy).
    public mutating func readRecords(compact: Bool, nullable: Bool = true, field: String) throws(ProtocolError) -> Records? {
        try readBytesRange(compact: compact, nullable: nullable, field: field).map { [frame] in .frame(RecordBytes(frame: frame, range: $0)) }
    }

    /// An array's element count (int32, or compact uvarint + 1); nil for a null array, which is
    /// an error unless `nullable`. The count is checked against the bytes left (each element
    /// takes at least `minimumElementBytes`) before the caller allocates anything.
    public mutating func readArrayCount(compact: Bool, nullable: Bool = true, field: String,
                                        minimumElementBytes: Int = 1) throws(ProtocolError) -> Int? {
        let start = position
        let count = try length(compact: compact, wide: true)
        if count == -1 && nullable { return nil }
        guard count >= 0, count * Int64(max(1, minimumElementBytes)) <= Int64(remaining) else {
            throw error(.invalidLength(field: field, length: count), at: start)
        }
        return Int(count)
    }

    /// A tagged-field section's header: how many fields follow (each at least two bytes).
    public mutating func readTaggedFieldCount() throws(ProtocolError) -> Int {
        let start = position
        let count = try readUnsignedVarint()
        guard Int64(count) * 2 <= Int64(remaining) else { throw error(.invalidLength(field: "tagged fields", length: Int64(count)), at: start) }
        return Int(count)
    }

    /// One tagged field's tag and size; the size is checked against the bytes left.
    public mutating func readTaggedFieldHeader() throws(ProtocolError) -> (tag: UInt32, size: Int) {
        let tag = try readUnsignedVarint()
        let start = position
        let size = try readUnsignedVarint()
        guard Int64(size) <= Int64(remaining) else { throw error(.invalidLength(field: "tagged field \(tag)", length: Int64(size)), at: start) }
        return (tag, Int(size))
    }

    /// Starts reading a known tagged field of `size` bytes: reads stop at its end. Returns the
    /// bound to give back to `endTaggedField`.
    public mutating func beginTaggedField(size: Int) throws(ProtocolError) -> TaggedFieldBound {
        guard size >= 0, size <= remaining else { throw error(.truncated(neededBytes: size, availableBytes: remaining)) }
        defer { end = position + size }
        return TaggedFieldBound(outerEnd: end, fieldEnd: position + size)
    }

    /// Ends a known tagged field: bytes left unread inside it mean it is not what its tag says.
    public mutating func endTaggedField(_ bound: TaggedFieldBound, field: String) throws(ProtocolError) {
        guard position == bound.fieldEnd else { throw error(.invalidLength(field: field, length: Int64(bound.fieldEnd - position))) }
        end = bound.outerEnd
    }

    /// Where a tagged field ends, and where the bytes around it end.
    public struct TaggedFieldBound: Sendable {
        let outerEnd: Int
        let fieldEnd: Int
    }

    /// Skips bytes (an unknown tagged field).
    public mutating func skip(_ count: Int) throws(ProtocolError) { _ = try take(count) }

    /// Skips a whole tagged-field section (for readers that know no tags: headers).
    public mutating func skipTaggedFields() throws(ProtocolError) {
        for _ in 0..<(try readTaggedFieldCount()) {
            let (_, size) = try readTaggedFieldHeader()
            try skip(size)
        }
    }

    /// Throws unless every byte was read.
    public func expectEnd() throws(ProtocolError) {
        if remaining != 0 { throw error(.trailingBytes(count: remaining)) }
    }
}
