/// Why bytes from a client could not be decoded as the Kafka request they claim to be.
///
/// A malformed frame is an operating error: the broker closes that one connection with this as
/// the logged reason, and nothing else is affected.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case truncated(neededBytes: Int, availableBytes: Int)
        case invalidLength(field: String, length: Int64)
        case malformedVarint
        case invalidUTF8(field: String)
        case unsupportedVersion(apiKey: Int16, version: Int16)
        case unknownApiKey(Int16)
        case trailingBytes(count: Int)
    }

    public var reason: Reason
    /// Byte position in the frame (after its size prefix).
    public var position: Int

    public init(_ reason: Reason, position: Int) {
        self.reason = reason
        self.position = position
    }

    public var description: String {
        let what: String
        switch reason {
        case let .truncated(needed, available): what = "truncated: \(needed) bytes needed, \(available) available"
        case let .invalidLength(field, length): what = "invalid length \(length) for \(field)"
        case .malformedVarint: what = "malformed varint"
        case let .invalidUTF8(field): what = "\(field) is not valid UTF-8"
        case let .unsupportedVersion(key, version): what = "version \(version) of API \(key) is not supported"
        case let .unknownApiKey(key): what = "unknown API key \(key)"
        case let .trailingBytes(count): what = "\(count) bytes after the end of the message"
        }
        return "\(what) at byte \(position)"
    }
}
