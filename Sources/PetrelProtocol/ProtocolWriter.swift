/// Writes Kafka's wire types into a growing byte array (the counterpart of `ProtocolReader`).
public struct ProtocolWriter {
    public private(set) var bytes: [UInt8] = []
    /// Byte ranges that belong in the message but are not in `bytes`: the sender inserts them at
    /// `position` (record batches sent straight from segment files with `sendfile`).
    public private(set) var externalParts: [ExternalPart] = []

    public struct ExternalPart: Sendable, Equatable {
        /// Where in `bytes` the part goes.
        public var position: Int
        /// The caller's handle for the bytes (which file, from where).
        public var tag: Int
        public var count: Int
    }

    /// Bytes in the whole message: `bytes` plus every external part.
    public var messageBytes: Int { bytes.count + externalParts.reduce(0) { $0 + $1.count } }

    public init(reservingCapacity capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func writeInt8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    public mutating func writeInt16(_ value: Int16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func writeInt32(_ value: Int32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func writeInt64(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func writeUUID(_ value: [UInt8]) {
        precondition(value.count == 16, "a uuid is 16 bytes")
        bytes.append(contentsOf: value)
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func writeString(_ value: String?, compact: Bool) {
        guard let value else {
            if compact { writeUnsignedVarint(0) } else { writeInt16(-1) }
            return
        }
        let utf8 = Array(value.utf8)
        precondition(utf8.count <= Int(Int16.max), "string too long for the wire")
        if compact { writeUnsignedVarint(UInt32(utf8.count + 1)) } else { writeInt16(Int16(utf8.count)) }
        bytes.append(contentsOf: utf8)
    }

    public mutating func writeBytes(_ value: [UInt8]?, compact: Bool) {
        guard let value else {
            if compact { writeUnsignedVarint(0) } else { writeInt32(-1) }
            return
        }
        if compact { writeUnsignedVarint(UInt32(value.count + 1)) } else { writeInt32(Int32(value.count)) }
        bytes.append(contentsOf: value)
    }

    /// A bytes field whose `count` bytes the sender supplies from elsewhere (see `externalParts`).
    public mutating func writeExternalBytes(count: Int, tag: Int, compact: Bool) {
        if compact { writeUnsignedVarint(UInt32(count + 1)) } else { writeInt32(Int32(count)) }
        externalParts.append(ExternalPart(position: bytes.count, tag: tag, count: count))
    }

    /// An array's count; nil writes a null array.
    public mutating func writeArrayCount(_ count: Int?, compact: Bool) {
        guard let count else {
            if compact { writeUnsignedVarint(0) } else { writeInt32(-1) }
            return
        }
        if compact { writeUnsignedVarint(UInt32(count + 1)) } else { writeInt32(Int32(count)) }
    }

    public mutating func writeArray<T>(_ elements: [T]?, compact: Bool, _ write: (inout ProtocolWriter, T) -> Void) {
        writeArrayCount(elements?.count, compact: compact)
        for element in elements ?? [] { write(&self, element) }
    }

    /// An empty tagged-field section (always valid in a flexible version).
    public mutating func writeEmptyTaggedFields() { bytes.append(0) }

    /// The whole frame: int32 size, then the bytes written.
    public var framed: [UInt8] {
        var frame = [UInt8]()
        frame.reserveCapacity(bytes.count + 4)
        withUnsafeBytes(of: Int32(bytes.count).bigEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: bytes)
        return frame
    }
}
