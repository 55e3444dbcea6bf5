internal import CZstd

/// Zstandard frames, as zstd-jni writes them for Kafka. Concatenated frames are read in order.
enum ZstdCodec {
    /// Kafka's `compression.zstd.level` default.
    static let defaultLevel: Int32 = 3

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws(FormatError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
        }
        guard ZSTD_isError(written) == 0 else {
            throw FormatError(.compressionFailed(codec: .zstd, detail: errorName(written)), position: 0)
        }
        output.removeLast(bound - written)
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into output: DecompressedRecords) throws(FormatError) {
        guard let context = ZSTD_createDCtx() else { throw failure("cannot create a decompression context") }
        defer { ZSTD_freeDCtx(context) }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var frameComplete = false
        while source.pos < source.size || !frameComplete {
            if output.freeBytes == 0 { try output.grow() }
            var destination = ZSTD_outBuffer(dst: output.freeSpace, size: output.freeBytes, pos: 0)
            let before = source.pos
            let result = ZSTD_decompressStream(context, &destination, &source)
            guard ZSTD_isError(result) == 0 else { throw failure(errorName(result)) }
            output.didWrite(destination.pos)
            frameComplete = result == 0
            // No input taken and no output room used up: the frame ends early.
            if !frameComplete && source.pos == source.size && source.pos == before && destination.pos < destination.size {
                throw failure("the zstd frame ends early")
            }
        }
    }

    private static func errorName(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }

    private static func failure(_ detail: String) -> FormatError {
        FormatError(.decompressionFailed(codec: .zstd, detail: detail), position: 0)
    }
}
