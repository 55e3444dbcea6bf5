internal import CSnappy

/// Snappy in the xerial snappy-java stream format Kafka writes: a 16-byte header (magic
/// `82 'SNAPPY' 00`, version 1, compatible version 1) and blocks of
/// `[int32 big-endian compressed length][raw snappy block]`. Like snappy-java, the reader also
/// accepts a bare raw snappy block.
enum SnappyCodec {
    static let magic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let headerBytes = 16
    /// snappy-java's default block size.
    static let blockBytes = 32 * 1024

    static func compress(_ input: UnsafeRawBufferPointer) throws(FormatError) -> [UInt8] {
        var output = magic
        appendInt32(1, to: &output)
        appendInt32(1, to: &output)
        var start = 0
        while start < input.count {
            let blockCount = min(blockBytes, input.count - start)
            var compressedBytes = snappy_max_compressed_length(blockCount)
            let lengthAt = output.count
            output.append(contentsOf: repeatElement(0, count: 4 + compressedBytes))
            let status = output.withUnsafeMutableBytes { out in
                snappy_compress(
                    input.baseAddress!.assumingMemoryBound(to: CChar.self) + start, blockCount,
                    out.baseAddress!.assumingMemoryBound(to: CChar.self) + lengthAt + 4, &compressedBytes)
            }
            guard status == SNAPPY_OK else {
                throw FormatError(.compressionFailed(codec: .snappy, detail: "snappy_compress failed"), position: 0)
            }
            output.removeLast(output.count - (lengthAt + 4 + compressedBytes))
            output.withUnsafeMutableBytes {
                $0.storeBytes(of: UInt32(compressedBytes).bigEndian, toByteOffset: lengthAt, as: UInt32.self)
            }
            start += blockCount
        }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into output: DecompressedRecords) throws(FormatError) {
        guard input.count >= headerBytes, input.prefix(magic.count).elementsEqual(magic) else {
            try decompressBlock(input, into: output)
            return
        }
        var reader = ByteReader(input, origin: 0)
        _ = try reader.readBytes(headerBytes)
        while reader.remaining > 0 {
            let blockLength = try reader.readInt32()
            guard blockLength >= 0, Int(blockLength) <= reader.remaining else {
                throw failure("block length \(blockLength) at byte \(reader.index - 4) runs past the end")
            }
            try decompressBlock(try reader.readBytes(Int(blockLength)), into: output)
        }
    }

    private static func decompressBlock(_ block: UnsafeRawBufferPointer, into output: DecompressedRecords) throws(FormatError) {
        guard let source = block.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        var length = 0
        guard snappy_uncompressed_length(source, block.count, &length) == SNAPPY_OK else {
            throw failure("invalid snappy block header")
        }
        try output.reserve(length)
        guard snappy_uncompress(source, block.count, output.freeSpace.assumingMemoryBound(to: CChar.self), &length) == SNAPPY_OK
        else { throw failure("invalid snappy block") }
        output.didWrite(length)
    }

    private static func appendInt32(_ value: Int32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func failure(_ detail: String) -> FormatError {
        FormatError(.decompressionFailed(codec: .snappy, detail: detail), position: 0)
    }
}
