/// Writes Kafka's wire types into a growing byte array (the counterpart of `ProtocolReader`).
///
/// Writes whose length prefix could overflow (strings, bytes, arrays) throw `ProtocolError`
/// instead of trapping: the values come from callers, and a broker must not crash on them.
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

    func error(_ reason: ProtocolError.Reason) -> ProtocolError { ProtocolError(reason, position: bytes.count) }

    private mutating func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }

    public mutating func writeInt8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    public mutating func writeInt16(_ value: Int16) { integer(value) }
    public mutating func writeUInt16(_ value: UInt16) { integer(value) }
    public mutating func writeInt32(_ value: Int32) { integer(value) }
    public mutating func writeUInt32(_ value: UInt32) { integer(value) }
    public mutating func writeInt64(_ value: Int64) { integer(value) }
    public mutating func writeFloat64(_ value: Double) { integer(value.bitPattern) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func writeErrorCode(_ value: ErrorCode) { integer(value.rawValue) }
    public mutating func writeUuid(_ value: Uuid) {
        integer(value.high)
        integer(value.low)
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// A length or count prefix (nil: null), checked against what the prefix can hold.
    private mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool, nullable: Bool, field: String) throws(ProtocolError) {
        guard let length else {
            guard nullable else { throw error(.nullNotAllowed(field: field)) }
            if compact { writeUnsignedVarint(0) } else if wide { writeInt32(-1) } else { writeInt16(-1) }
            return
        }
        let limit = wide ? Int(Int32.max) : Int(Int16.max)
        guard length >= 0, length <= limit, length < Int(UInt32.max) else { throw error(.tooLong(field: field, length: length)) }
        if compact {
            writeUnsignedVarint(UInt32(length + 1))
        } else if wide {
            writeInt32(Int32(length))
        } else {
            writeInt16(Int16(length))
        }
    }

    /// A string (int16 length, or compact uvarint length + 1); nil is null, an error unless `nullable`.
    public mutating func writeString(_ value: String?, compact: Bool, nullable: Bool = true, field: String = "string") throws(ProtocolError) {
        let utf8 = value.map { Array($0.utf8) }
        try writeLength(utf8?.count, compact: compact, wide: false, nullable: nullable, field: field)
        if let utf8 { bytes.append(contentsOf: utf8) }
    }

    // Not inlined: Swift 6.3.1's optimizer crashes (CopyPropagation, "Found over consume") on
    // a generated writer that inlines two of these with arrays (DescribeGroupsResponse's
    // member), so a release build — the README's first command — failed to compile.
    @inline(never)
    public mutating func writeBytes<C: Collection<UInt8>>(_ value: C?, compact: Bool, nullable: Bool = true, field: String = "bytes") throws(ProtocolError) {
        try writeLength(value?.count, compact: compact, wide: true, nullable: nullable, field: field)
        if let value { bytes.append(contentsOf: value) }
    }

    /// A records field: its bytes, or a part the sender supplies (`Records.external`).
    public mutating func writeRecords(_ value: Records?, compact: Bool, nullable: Bool = true, field: String = "records") throws(ProtocolError) {
        switch value {
        case let .external(tag, count):
            try writeLength(count, compact: compact, wide: true, nullable: nullable, field: field)
            externalParts.append(ExternalPart(position: bytes.count, tag: tag, count: count))
        case let .bytes(slice): try writeBytes(slice, compact: compact, nullable: nullable, field: field)
        case nil: try writeBytes([UInt8]?.none, compact: compact, nullable: nullable, field: field)
        }
    }

    /// An array's count; nil writes a null array (an error unless `nullable`).
    public mutating func writeArrayCount(_ count: Int?, compact: Bool, nullable: Bool = true, field: String = "array") throws(ProtocolError) {
        try writeLength(count, compact: compact, wide: true, nullable: nullable, field: field)
    }

    /// An empty tagged-field section (always valid in a flexible version).
    public mutating func writeEmptyTaggedFields() { bytes.append(0) }

    /// Appends what `other` wrote (a tagged field's value), which must not have external parts.
    mutating func append(_ other: ProtocolWriter) throws(ProtocolError) {
        guard other.externalParts.isEmpty else { throw error(.externalPartInTaggedField) }
        bytes.append(contentsOf: other.bytes)
    }
}

/// A tagged-field section being built: each field is written on its own, then the section is
/// written as a count and the fields in ascending tag order (KIP-482).
public struct TaggedFieldsWriter {
    private var fields: [(tag: UInt32, value: ProtocolWriter)] = []

    public init() {}

    public mutating func add(tag: UInt32, _ value: ProtocolWriter) { fields.append((tag, value)) }

    public func write(to writer: inout ProtocolWriter) throws(ProtocolError) {
        writer.writeUnsignedVarint(UInt32(truncatingIfNeeded: fields.count))
        for field in fields.sorted(by: { $0.tag < $1.tag }) {
            writer.writeUnsignedVarint(field.tag)
            guard field.value.bytes.count < Int(UInt32.max) else { throw writer.error(.tooLong(field: "tagged field \(field.tag)", length: field.value.bytes.count)) }
            writer.writeUnsignedVarint(UInt32(field.value.bytes.count))
            try writer.append(field.value)
        }
    }
}
