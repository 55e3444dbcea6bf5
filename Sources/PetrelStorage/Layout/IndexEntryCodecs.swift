/// Kafka's `.index` entry (8 bytes, big-endian): the offset relative to the segment's base, then
/// the byte position of the batch in the `.log`. The engine, fsck and `petrel dump` read and
/// write entries only through this codec.
public enum OffsetIndexEntry {
    public static let bytes = 8

    /// The entry at `pointer`: (relative offset, position).
    public static func decode(_ pointer: UnsafeRawPointer) -> (relativeOffset: Int32, position: Int32) {
        (relativeOffset(pointer), pointer.bigEndianInt32(at: 4))
    }

    /// The entry's key alone, for binary searches.
    public static func relativeOffset(_ pointer: UnsafeRawPointer) -> Int32 { pointer.bigEndianInt32(at: 0) }

    static func encode(relativeOffset: Int32, position: Int32, into pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: relativeOffset.bigEndian, toByteOffset: 0, as: Int32.self)
        pointer.storeBytes(of: position.bigEndian, toByteOffset: 4, as: Int32.self)
    }
}

/// Kafka's `.timeindex` entry (12 bytes, big-endian): a timestamp, then the offset (relative
/// to the segment's base) up to which it is the largest timestamp.
public enum TimeIndexEntry {
    public static let bytes = 12

    /// The entry at `pointer`: (timestamp, relative offset).
    public static func decode(_ pointer: UnsafeRawPointer) -> (timestamp: Int64, relativeOffset: Int32) {
        (timestamp(pointer), relativeOffset(pointer))
    }

    public static func timestamp(_ pointer: UnsafeRawPointer) -> Int64 { pointer.bigEndianInt64(at: 0) }
    public static func relativeOffset(_ pointer: UnsafeRawPointer) -> Int32 { pointer.bigEndianInt32(at: 8) }

    static func encode(timestamp: Int64, relativeOffset: Int32, into pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: timestamp.bigEndian, toByteOffset: 0, as: Int64.self)
        pointer.storeBytes(of: relativeOffset.bigEndian, toByteOffset: 8, as: Int32.self)
    }
}

/// Kafka's `.txnindex` entry (34 bytes, big-endian): an aborted transaction of one producer.
public struct TransactionIndexEntry: Sendable, Equatable {
    public static let bytes = 34

    public var version: Int16
    public var producerId: Int64
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var lastStableOffset: Int64

    /// The entry at `pointer` (which must have `bytes` readable bytes).
    public init(decoding pointer: UnsafeRawPointer) {
        version = pointer.bigEndianInt16(at: 0)
        producerId = pointer.bigEndianInt64(at: 2)
        firstOffset = pointer.bigEndianInt64(at: 10)
        lastOffset = pointer.bigEndianInt64(at: 18)
        lastStableOffset = pointer.bigEndianInt64(at: 26)
    }
}

extension UnsafeRawPointer {
    func bigEndianInt16(at offset: Int) -> Int16 { Int16(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int16.self)) }
    func bigEndianInt32(at offset: Int) -> Int32 { Int32(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int32.self)) }
    func bigEndianInt64(at offset: Int) -> Int64 { Int64(bigEndian: loadUnaligned(fromByteOffset: offset, as: Int64.self)) }
}
