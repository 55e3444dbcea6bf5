/// One record of `__consumer_offsets`, as Kafka's group coordinator frames it
/// (`CoordinatorRecordSerde`): the key is an int16 record type (which is also the key struct's
/// version) and the key struct; the value is an int16 version and the value struct; a null
/// value is a tombstone (an offset or group deleted, to be removed by compaction).
///
/// Key types 0 and 1 are offset commits, 2 classic group metadata. Types 3 and up are KIP-848
/// consumer-group and share-group records, which Petrel's classic coordinator does not keep:
/// they decode as `.other` (key and value unread), as Kafka's own loader skips types it does
/// not know.
public enum ConsumerOffsetsRecord: Sendable, Equatable {
    /// A committed offset of one partition for one group; nil value: the offset was deleted.
    case offsetCommit(OffsetCommitKey, OffsetCommitValue?)
    /// A classic group's state and members; nil value: the group was deleted.
    case groupMetadata(GroupMetadataKey, GroupMetadataValue?)
    /// A record type this decoder leaves alone (KIP-848 and share groups, or anything newer).
    case other(type: Int16)

    /// - Throws: `ProtocolError` when a key or value is truncated, has bytes after its struct,
    ///   or has a version its schema does not define.
    public static func decode(key: [UInt8], value: [UInt8]?) throws(ProtocolError) -> ConsumerOffsetsRecord {
        var (type, reader) = try RecordFraming.version(of: key)
        switch type {
        case OffsetCommitKey.validVersions:
            let key = try RecordFraming.read(OffsetCommitKey.self, version: type, from: &reader)
            return .offsetCommit(key, try value.map { bytes throws(ProtocolError) in try RecordFraming.read(OffsetCommitValue.self, framed: bytes) })
        case GroupMetadataKey.validVersions:
            let key = try RecordFraming.read(GroupMetadataKey.self, version: type, from: &reader)
            return .groupMetadata(key, try value.map { bytes throws(ProtocolError) in try RecordFraming.read(GroupMetadataValue.self, framed: bytes) })
        default:
            return .other(type: type)
        }
    }

    /// Key and value bytes in the versions Kafka writes today (`GroupCoordinatorRecordHelpers`):
    /// offset commit key v1 with value v3, or value v1 when the commit carries an expire
    /// timestamp (v3 has no room for one; v1 none for the leader epoch, which it drops); group
    /// metadata key v2 with value v3. A nil value stays nil (a tombstone).
    ///
    /// - Throws: `ProtocolError` for `.other` (there is nothing to write it from), or a value
    ///   its version cannot carry (a string longer than an int16 length).
    public func encoded() throws(ProtocolError) -> (key: [UInt8], value: [UInt8]?) {
        switch self {
        case let .offsetCommit(key, value):
            let valueVersion: Int16 = value?.expireTimestamp == -1 ? 3 : 1
            return (try RecordFraming.framed(key, version: 1),
                    try value.map { value throws(ProtocolError) in try RecordFraming.framed(value, version: valueVersion) })
        case let .groupMetadata(key, value):
            return (try RecordFraming.framed(key, version: 2),
                    try value.map { value throws(ProtocolError) in try RecordFraming.framed(value, version: 3) })
        case let .other(type):
            throw ProtocolError(.unsupportedRecordVersion(record: "ConsumerOffsetsRecord key", version: type), position: 0)
        }
    }
}
