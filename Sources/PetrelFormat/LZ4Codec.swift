internal import CLZ4

/// The LZ4 frame format, written as Kafka's Lz4BlockOutputStream writes it: 64 KiB independent
/// blocks, no content size, no content checksum. Any valid LZ4 frame is read.
enum LZ4Codec {
    /// liblz4's fast mode (Kafka's default level 9 also selects its fast compressor).
    static let defaultLevel: Int32 = 0

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws(FormatError) -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.compressionLevel = level
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            LZ4F_compressFrame(out.baseAddress, out.count, input.baseAddress, input.count, &preferences)
        }
        guard LZ4F_isError(written) == 0 else {
            throw FormatError(.compressionFailed(codec: .lz4, detail: errorName(written)), position: 0)
        }
        output.removeLast(bound - written)
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into output: DecompressedRecords) throws(FormatError) {
        var context: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0 else {
            throw failure("cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var consumed = 0
        while true {
            if output.freeBytes == 0 { try output.grow() }
            var sourceBytes = input.count - consumed
            var destinationBytes = output.freeBytes
            let hint = LZ4F_decompress(
                context, output.freeSpace, &destinationBytes, input.baseAddress.map { $0 + consumed }, &sourceBytes, nil)
            guard LZ4F_isError(hint) == 0 else { throw failure(errorName(hint)) }
            consumed += sourceBytes
            output.didWrite(destinationBytes)
            if hint == 0 {
                guard consumed == input.count else {
                    throw failure("\(input.count - consumed) bytes after the end of the LZ4 frame")
                }
                return
            }
            // Out of input with the frame unfinished, and not for lack of output space.
            if consumed == input.count && output.freeBytes > 0 {
                throw failure("the LZ4 frame ends early")
            }
        }
    }

    private static func errorName(_ code: Int) -> String { String(cString: LZ4F_getErrorName(code)) }

    private static func failure(_ detail: String) -> FormatError {
        FormatError(.decompressionFailed(codec: .lz4, detail: detail), position: 0)
    }
}
