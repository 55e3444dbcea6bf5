/// A bounds-checked cursor over borrowed bytes, reading Kafka's big-endian integers and
/// zigzag varints.
///
/// Every read checks the remaining length first and throws `FormatError` with the absolute byte
/// position (`origin` + index) instead of trapping, because the bytes come from disks and
/// sockets. The cursor borrows its memory: it must not outlive the buffer it was made from.
@usableFromInline
struct ByteReader {
    @usableFromInline let base: UnsafeRawPointer?
    @usableFromInline let count: Int
    /// Position of byte 0 of this buffer in the coordinates errors are reported in: the input
    /// buffer's, or the decompressed records' when `compressedPosition` is set.
    @usableFromInline let origin: Int
    /// For decompressed records: where the compressed records start in the input buffer.
    @usableFromInline let compressedPosition: Int?
    @usableFromInline var index: Int = 0

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer, origin: Int, compressedPosition: Int? = nil) {
        self.base = bytes.baseAddress
        self.count = bytes.count
        self.origin = origin
        self.compressedPosition = compressedPosition
    }

    /// A reader confined to the next `byteCount` bytes, reporting errors in the same coordinates.
    @inlinable
    func subReader(_ byteCount: Int) -> ByteReader {
        precondition(byteCount <= remaining, "sub-reader past the end")
        return ByteReader(UnsafeRawBufferPointer(start: base.map { $0 + index }, count: byteCount),
                          origin: origin + index, compressedPosition: compressedPosition)
    }

    @inlinable var remaining: Int { count - index }

    @inlinable
    func error(_ reason: FormatError.Reason, at index: Int? = nil) -> FormatError {
        let at = origin + (index ?? self.index)
        if let compressedPosition { return FormatError(reason, position: compressedPosition, decompressedPosition: at) }
        return FormatError(reason, position: at)
    }

    @inlinable
    func require(_ byteCount: Int) throws(FormatError) {
        if byteCount > remaining {
            throw error(.truncated(neededBytes: byteCount, availableBytes: remaining))
        }
    }

    @inlinable
    mutating func readInt8() throws(FormatError) -> Int8 {
        try require(1)
        defer { index += 1 }
        return base!.load(fromByteOffset: index, as: Int8.self)
    }

    @inlinable
    mutating func readInt16() throws(FormatError) -> Int16 {
        try require(2)
        defer { index += 2 }
        return Int16(bigEndian: base!.loadUnaligned(fromByteOffset: index, as: Int16.self))
    }

    @inlinable
    mutating func readInt32() throws(FormatError) -> Int32 {
        try require(4)
        defer { index += 4 }
        return Int32(bigEndian: base!.loadUnaligned(fromByteOffset: index, as: Int32.self))
    }

    /// Reads a zigzag varint of at most 5 bytes that fits an Int32, as Kafka's `readVarint`.
    @inlinable
    mutating func readVarint() throws(FormatError) -> Int32 {
        // Fast path: one byte, the common case for lengths and deltas of small records.
        if index < count {
            let first = base!.load(fromByteOffset: index, as: UInt8.self)
            if first & 0x80 == 0 {
                index += 1
                return Int32(first >> 1) ^ -Int32(first & 1)
            }
        }
        var raw: UInt32 = 0
        var shift: UInt32 = 0
        let start = index
        while true {
            guard index < count else { throw error(.malformedVarint, at: start) }
            let byte = base!.load(fromByteOffset: index, as: UInt8.self)
            index += 1
            if shift == 28 && byte & 0xF0 != 0 { throw error(.malformedVarint, at: start) }
            raw |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int32(bitPattern: raw >> 1) ^ -Int32(bitPattern: raw & 1)
    }

    /// Reads a zigzag varlong of at most 10 bytes, as Kafka's `readVarlong`.
    @inlinable
    mutating func readVarlong() throws(FormatError) -> Int64 {
        if index < count {
            let first = base!.load(fromByteOffset: index, as: UInt8.self)
            if first & 0x80 == 0 {
                index += 1
                return Int64(first >> 1) ^ -Int64(first & 1)
            }
        }
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        let start = index
        while true {
            guard index < count else { throw error(.malformedVarint, at: start) }
            let byte = base!.load(fromByteOffset: index, as: UInt8.self)
            index += 1
            if shift == 63 && byte & 0xFE != 0 { throw error(.malformedVarint, at: start) }
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Takes `byteCount` bytes as a borrowed slice.
    @inlinable
    mutating func readBytes(_ byteCount: Int) throws(FormatError) -> UnsafeRawBufferPointer {
        try require(byteCount)
        defer { index += byteCount }
        return UnsafeRawBufferPointer(start: base.map { $0 + index }, count: byteCount)
    }
}
