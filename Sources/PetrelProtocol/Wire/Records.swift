/// A `records` field: RecordBatch bytes, either inline or supplied by the sender.
///
/// Decoding gives `.bytes`, a slice of the request frame (no copy). Encoding a fetch response
/// uses `.external`: the writer leaves a hole of `count` bytes that the sender fills from a
/// segment file with `sendfile` (`ProtocolWriter.externalParts`, `tag` says which file).
public enum Records: Sendable, Equatable {
    case bytes(ArraySlice<UInt8>)
    case external(tag: Int, count: Int)

    public static let empty = Records.bytes([])

    /// The inline bytes; nil for an external part.
    public var inlineBytes: ArraySlice<UInt8>? {
        if case let .bytes(slice) = self { return slice }
        return nil
    }
}
