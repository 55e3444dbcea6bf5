internal import CZlib

/// gzip (RFC 1952) through zlib, as Kafka's GZIPOutputStream/GZIPInputStream write and read it.
enum GzipCodec {
    /// zlib's default level, which Kafka's `compression.gzip.level` = −1 means.
    static let defaultLevel: Int32 = 6

    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws(FormatError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init_gzip(&stream, level) == Z_OK else {
            throw FormatError(.compressionFailed(codec: .gzip, detail: "deflateInit2 failed for level \(level)"), position: 0)
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let result: Int32 = output.withUnsafeMutableBytes { out in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(input.count)
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(out.count)
            return deflate(&stream, Z_FINISH)
        }
        guard result == Z_STREAM_END else {
            throw FormatError(.compressionFailed(codec: .gzip, detail: "deflate returned \(result)"), position: 0)
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into output: DecompressedRecords) throws(FormatError) {
        var stream = z_stream()
        guard czlib_inflate_init_gzip(&stream) == Z_OK else {
            throw failure("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(input.count)
        while true {
            if output.freeBytes == 0 { try output.grow() }
            stream.next_out = output.freeSpace.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(min(output.freeBytes, Int(UInt32.max)))
            let offered = Int(stream.avail_out)
            let result = inflate(&stream, Z_NO_FLUSH)
            output.didWrite(offered - Int(stream.avail_out))
            switch result {
            case Z_STREAM_END:
                guard stream.avail_in > 0 else { return }
                // Java's GZIPInputStream reads concatenated members; so do we. Anything else is damage.
                guard stream.avail_in >= 2, stream.next_in[0] == 0x1F, stream.next_in[1] == 0x8B else {
                    throw failure("\(stream.avail_in) bytes after the end of the gzip stream")
                }
                guard inflateReset(&stream) == Z_OK else { throw failure("inflateReset failed") }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_out == 0:
                continue  // no room for output: grows at the top of the loop
            case Z_BUF_ERROR:
                throw failure("the gzip stream ends early")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "inflate returned \(result)"
                throw failure(message)
            }
        }
    }

    private static func failure(_ detail: String) -> FormatError {
        FormatError(.decompressionFailed(codec: .gzip, detail: detail), position: 0)
    }
}
