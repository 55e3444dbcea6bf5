/// Writers for Kafka's zigzag varints (protobuf style: zigzag, then 7 bits a byte, low first).
enum Varint {
    static func zigzag(_ value: Int32) -> UInt32 { UInt32(bitPattern: (value << 1) ^ (value >> 31)) }
    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    static func append(_ value: Int32, to bytes: inout [UInt8]) {
        appendUnsigned(UInt64(zigzag(value)), to: &bytes)
    }

    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        appendUnsigned(zigzag(value), to: &bytes)
    }

    static func appendUnsigned(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Bytes the zigzag varint of `value` takes.
    static func size(_ value: Int32) -> Int { sizeUnsigned(UInt64(zigzag(value))) }
    static func size(_ value: Int64) -> Int { sizeUnsigned(zigzag(value)) }

    static func sizeUnsigned(_ value: UInt64) -> Int {
        let bits = 64 - value.leadingZeroBitCount
        return max(1, (bits + 6) / 7)
    }
}
