internal import CCRC32C

/// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
///
/// Backed by the SSE4.2 instruction when the CPU has it, else a slicing-by-8 table.
public enum CRC32C {
    /// The CRC of `bytes`, continuing from `crc` (the finished CRC of the bytes before them).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        extend(crc, bytes)
    }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ extend(0, UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { extend(0, $0) }
    }

    @usableFromInline
    static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return ccrc32c_extend(crc, base, bytes.count)
    }
}
