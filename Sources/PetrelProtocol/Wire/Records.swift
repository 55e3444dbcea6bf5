/// A `records` field: RecordBatch bytes, either inline or supplied by the sender.
///
/// Decoding gives `.frame`: the bytes where they are in the request frame, keeping the frame
/// alive (no copy), so a produce can hand them to the log as they arrived. `.bytes` is for
/// values built in memory (tests, tools). Encoding a fetch response uses `.external`: the
/// writer leaves a hole of `count` bytes that the sender fills from a segment file with
/// `sendfile` (`ProtocolWriter.externalParts`, `tag` says which file).
public enum Records: Sendable, Equatable {
    case bytes(ArraySlice<UInt8>)
    case frame(RecordBytes)
    case external(tag: Int, count: Int)

    public static let empty = Records.bytes([])

    /// The inline bytes (a copy for `.frame`); nil for an external part.
    public var inlineBytes: ArraySlice<UInt8>? {
        switch self {
        case let .bytes(slice): return slice
        case let .frame(bytes): return ArraySlice(bytes.array)
        case .external: return nil
        }
    }

    /// The inline bytes as a frame range, without a copy for `.frame`; nil for an external part.
    public var recordBytes: RecordBytes? {
        switch self {
        case let .bytes(slice): return RecordBytes(copying: slice)
        case let .frame(bytes): return bytes
        case .external: return nil
        }
    }

    /// Inline records are equal when their bytes are, however they are held.
    public static func == (lhs: Records, rhs: Records) -> Bool {
        switch (lhs, rhs) {
        case let (.external(lhsTag, lhsCount), .external(rhsTag, rhsCount)): return lhsTag == rhsTag && lhsCount == rhsCount
        case (.external, _), (_, .external): return false
        case let (.bytes(lhsSlice), .bytes(rhsSlice)): return lhsSlice == rhsSlice
        case let (.frame(lhsBytes), .frame(rhsBytes)): return lhsBytes == rhsBytes
        case let (.bytes(slice), .frame(bytes)), let (.frame(bytes), .bytes(slice)): return slice.elementsEqual(bytes.unsafeBytes)
        }
    }
}
