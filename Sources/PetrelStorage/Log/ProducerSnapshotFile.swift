internal import PetrelFormat

/// Kafka's producer snapshot files (`<offset>.snapshot`, ProducerSnapshot v1): what makes one
/// valid, shared by the engine (which loads them) and fsck (which reports why one is not).
public enum ProducerSnapshotFile {
    public static let headerBytes = 10
    public static let entryBytes = 46

    /// Why `bytes` are not a valid v1 snapshot (header, CRC-32C of everything after the CRC,
    /// entry count filling the file), or nil when they are.
    public static func problem(in bytes: [UInt8]) -> String? {
        guard bytes.count >= headerBytes else { return "\(bytes.count) bytes, shorter than the \(headerBytes)-byte header" }
        func int<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T { bytes[at..<(at + MemoryLayout<T>.size)].reduce(T.zero) { $0 << 8 | T($1) } }
        let version = int(0, Int16.self)
        guard version == 1 else { return "version \(version), expected 1" }
        let stored = int(2, UInt32.self), computed = CRC32C.checksum(bytes[6...])
        guard stored == computed else { return "CRC32C mismatch: stored \(stored), computed \(computed)" }
        let count = int(6, Int32.self)
        guard count >= 0, headerBytes + Int(count) * entryBytes == bytes.count else {
            return "\(count) producer entries do not fill \(bytes.count) bytes"
        }
        return nil
    }
}
