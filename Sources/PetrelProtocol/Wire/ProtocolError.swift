/// Why bytes from a client could not be decoded as the Kafka message they claim to be, or why a
/// message could not be encoded in the version asked for.
///
/// A malformed frame is an operating error: the broker closes that one connection with this as
/// the logged reason, and nothing else is affected. Encoding errors come from values a version
/// cannot carry (a field it lacks, a null it forbids, a length its prefix cannot hold): the
/// caller's data, so a typed error rather than a trap.
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case truncated(neededBytes: Int, availableBytes: Int)
        case invalidLength(field: String, length: Int64)
        case malformedVarint
        case invalidUTF8(field: String)
        case unsupportedVersion(apiKey: Int16, version: Int16)
        case unknownApiKey(Int16)
        /// An internal-topic record (`KafkaRecordData`) in a version its schema does not define.
        case unsupportedRecordVersion(record: String, version: Int16)
        case trailingBytes(count: Int)
        /// Encoding: a non-default value for a field the version lacks, which is not ignorable.
        case fieldNotInVersion(field: String, version: Int16)
        /// Encoding: null for a field that is not nullable in this version.
        case nullNotAllowed(field: String)
        /// Encoding: a length or count the wire prefix cannot hold.
        case tooLong(field: String, length: Int)
        /// Encoding: records supplied by the sender inside a tagged field (its size is unknown).
        case externalPartInTaggedField
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
        case let .unsupportedRecordVersion(record, version): what = "version \(version) of \(record) is not defined"
        case let .trailingBytes(count): what = "\(count) bytes after the end of the message"
        case let .fieldNotInVersion(field, version): what = "\(field) has a value that version \(version) cannot carry"
        case let .nullNotAllowed(field): what = "\(field) is null but not nullable in this version"
        case let .tooLong(field, length): what = "\(field) is too long for the wire (\(length))"
        case .externalPartInTaggedField: what = "external records inside a tagged field"
        }
        return "\(what) at byte \(position)"
    }
}
