/// Compression and decompression of a batch's records section, for every codec Kafka defines.
///
/// Decompression writes into a buffer that grows geometrically but never past the caller's
/// bound, so a tiny hostile input cannot make it allocate without limit.
public enum Compression {
    /// Compresses an encoded records section with `codec` at `level` (nil: the codec's Kafka default).
    public static func compress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, level: Int32? = nil
    ) throws(FormatError) -> [UInt8] {
        switch codec {
        case .none: return Array(input)
        case .gzip: return try GzipCodec.compress(input, level: level ?? GzipCodec.defaultLevel)
        case .snappy: return try SnappyCodec.compress(input)
        case .lz4: return try LZ4Codec.compress(input, level: level ?? LZ4Codec.defaultLevel)
        case .zstd: return try ZstdCodec.compress(input, level: level ?? ZstdCodec.defaultLevel)
        }
    }

    /// Decompresses a records section. The result holds at most `outputBytesMax` bytes.
    ///
    /// - Throws: `FormatError` with position 0 (relative to `input`): the caller places it.
    static func decompressRecords(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, outputBytesMax: Int
    ) throws(FormatError) -> DecompressedRecords {
        let output = DecompressedRecords(inputBytes: input.count, outputBytesMax: outputBytesMax)
        switch codec {
        case .none: try output.append(input)
        case .gzip: try GzipCodec.decompress(input, into: output)
        case .snappy: try SnappyCodec.decompress(input, into: output)
        case .lz4: try LZ4Codec.decompress(input, into: output)
        case .zstd: try ZstdCodec.decompress(input, into: output)
        }
        return output
    }

    /// Decompresses a records section into a new array of at most `outputBytesMax` bytes.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, codec: CompressionCodec, outputBytesMax: Int = DecodeLimits.default.decompressedBytesMax
    ) throws(FormatError) -> [UInt8] {
        let output = try decompressRecords(input, codec: codec, outputBytesMax: outputBytesMax)
        return Array(output.bytes)
    }
}

/// A growable byte buffer, bounded by `outputBytesMax`, that decompressors write into and that
/// a `RecordIterator` keeps alive while its records borrow from it.
final class DecompressedRecords {
    private(set) var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var count: Int = 0
    let outputBytesMax: Int

    init(inputBytes: Int, outputBytesMax: Int) {
        // Records compress about 2–6× in practice; start at 4× the input and grow from there.
        let (guess, overflow) = inputBytes.multipliedReportingOverflow(by: 4)
        capacity = min(outputBytesMax, max(4096, overflow ? Int.max : guess))
        storage = .allocate(byteCount: max(capacity, 1), alignment: 16)
        self.outputBytesMax = outputBytesMax
    }

    deinit { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }
    var freeBytes: Int { capacity - count }
    var freeSpace: UnsafeMutableRawPointer { storage + count }

    /// Makes room for more output: doubles the capacity, up to the bound.
    /// - Throws: `decompressedSizeLimitExceeded` when the buffer is already at the bound.
    func grow() throws(FormatError) {
        guard capacity < outputBytesMax else {
            throw FormatError(.decompressedSizeLimitExceeded(limitBytes: outputBytesMax), position: 0)
        }
        let newCapacity = capacity > outputBytesMax / 2 ? outputBytesMax : capacity * 2
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newStorage.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    /// Makes sure `byteCount` more bytes fit, growing as needed.
    func reserve(_ byteCount: Int) throws(FormatError) {
        guard byteCount <= outputBytesMax - count else {
            throw FormatError(.decompressedSizeLimitExceeded(limitBytes: outputBytesMax), position: 0)
        }
        while freeBytes < byteCount { try grow() }
    }

    /// Records that a decompressor wrote `byteCount` bytes at `freeSpace`.
    func didWrite(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= freeBytes, "decompressor wrote past its space")
        count += byteCount
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(FormatError) {
        try reserve(bytes.count)
        if let source = bytes.baseAddress { freeSpace.copyMemory(from: source, byteCount: bytes.count) }
        didWrite(bytes.count)
    }
}
