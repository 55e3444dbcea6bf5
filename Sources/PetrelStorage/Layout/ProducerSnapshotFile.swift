internal import PetrelFormat

/// Kafka's producer snapshot files (`<offset>.snapshot`, ProducerSnapshot v1), encoded and
/// decoded in one place for the engine (which writes and loads them), fsck (which reports why
/// one is not valid) and `petrel dump` (which prints them).
///
/// `version int16 = 1`, `crc uint32` (CRC-32C of everything after it), `count int32`, then per
/// producer 46 bytes: id, epoch, last sequence, last offset, offset delta, timestamp,
/// coordinator epoch, current transaction's first offset (−1 when none).
public enum ProducerSnapshotFile {
    public static let headerBytes = 10
    public static let entryBytes = 46
    public static let version: Int16 = 1

    /// One producer's entry.
    public struct Entry: Sendable, Equatable {
        public var producerId: Int64
        public var producerEpoch: Int16
        public var lastSequence: Int32
        public var lastOffset: Int64
        public var offsetDelta: Int32
        public var timestamp: Int64
        public var coordinatorEpoch: Int32
        public var currentTransactionFirstOffset: Int64

        public init(producerId: Int64, producerEpoch: Int16, lastSequence: Int32, lastOffset: Int64, offsetDelta: Int32,
                    timestamp: Int64, coordinatorEpoch: Int32, currentTransactionFirstOffset: Int64) {
            self.producerId = producerId
            self.producerEpoch = producerEpoch
            self.lastSequence = lastSequence
            self.lastOffset = lastOffset
            self.offsetDelta = offsetDelta
            self.timestamp = timestamp
            self.coordinatorEpoch = coordinatorEpoch
            self.currentTransactionFirstOffset = currentTransactionFirstOffset
        }
    }

    /// The header fields as stored, whether or not they are valid (for `petrel dump`).
    public struct Header: Sendable {
        public var version: Int16
        public var storedCRC: UInt32
        public var computedCRC: UInt32
        public var count: Int32
    }

    /// The file's bytes for `entries`.
    public static func encode(_ entries: [Entry]) -> [UInt8] {
        guard let count = Int32(exactly: entries.count) else { preconditionFailure("more producers than a snapshot can count") }
        var body: [UInt8] = []
        body.reserveCapacity(4 + entries.count * entryBytes)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { body.append(contentsOf: $0) } }
        put(count)
        for entry in entries {
            put(entry.producerId)
            put(entry.producerEpoch)
            put(entry.lastSequence)
            put(entry.lastOffset)
            put(entry.offsetDelta)
            put(entry.timestamp)
            put(entry.coordinatorEpoch)
            put(entry.currentTransactionFirstOffset)
        }
        var file: [UInt8] = []
        file.reserveCapacity(6 + body.count)
        withUnsafeBytes(of: version.bigEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(body).bigEndian) { file.append(contentsOf: $0) }
        return file + body
    }

    /// The header, or nil when `bytes` are shorter than one.
    public static func header(of bytes: [UInt8]) -> Header? {
        guard bytes.count >= headerBytes else { return nil }
        return Header(version: int(bytes, 0), storedCRC: int(bytes, 2), computedCRC: CRC32C.checksum(bytes[6...]), count: int(bytes, 6))
    }

    /// The whole entries that follow the header (however many the header claims), for tools
    /// that show a damaged file as far as it goes.
    public static func entries(in bytes: [UInt8]) -> [Entry] {
        guard bytes.count >= headerBytes else { return [] }
        return stride(from: headerBytes, through: bytes.count - entryBytes, by: entryBytes).map { at in
            Entry(producerId: int(bytes, at), producerEpoch: int(bytes, at + 8), lastSequence: int(bytes, at + 10),
                  lastOffset: int(bytes, at + 14), offsetDelta: int(bytes, at + 22), timestamp: int(bytes, at + 26),
                  coordinatorEpoch: int(bytes, at + 34), currentTransactionFirstOffset: int(bytes, at + 38))
        }
    }

    /// The entries of a valid snapshot, or nil when `bytes` are not one (see `problem(in:)`).
    public static func decode(_ bytes: [UInt8]) -> [Entry]? {
        problem(in: bytes) == nil ? entries(in: bytes) : nil
    }

    /// Why `bytes` are not a valid v1 snapshot (header, CRC-32C of everything after the CRC,
    /// entry count filling the file), or nil when they are.
    public static func problem(in bytes: [UInt8]) -> String? {
        guard let header = header(of: bytes) else { return "\(bytes.count) bytes, shorter than the \(headerBytes)-byte header" }
        guard header.version == version else { return "version \(header.version), expected \(version)" }
        guard header.storedCRC == header.computedCRC else {
            return "CRC32C mismatch: stored \(header.storedCRC), computed \(header.computedCRC)"
        }
        guard header.count >= 0, headerBytes + Int(header.count) * entryBytes == bytes.count else {
            return "\(header.count) producer entries do not fill \(bytes.count) bytes"
        }
        return nil
    }

    private static func int<T: FixedWidthInteger>(_ bytes: [UInt8], _ at: Int) -> T {
        bytes[at..<(at + MemoryLayout<T>.size)].reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }
    }
}
