public import PetrelProtocol

/// What a consumer group's leader assigned one member, decoded from the opaque assignment bytes
/// of SyncGroup and DescribeGroups when the group's protocol type is `consumer`
/// (apache/kafka `ConsumerProtocolAssignment.json`).
///
/// Versions 0-3 share one layout, never flexible: int16 version, then an int32-counted array of
/// (int16-length topic, int32-counted array of int32 partitions), then nullable int32-length
/// user data. A later version is read as version 3, as Kafka's own `ConsumerProtocol` does:
/// new versions only append fields, so what follows the known ones is ignored.
public struct ConsumerProtocolAssignment: Sendable, Equatable {
    public var version: Int16
    /// Assigned partitions by topic, in the order the assignor wrote them.
    public var topics: [(topic: String, partitions: [Int32])]
    /// The assignor's own bytes (nil: null on the wire).
    public var userData: [UInt8]?

    public init(version: Int16, topics: [(topic: String, partitions: [Int32])], userData: [UInt8]?) {
        self.version = version
        self.topics = topics
        self.userData = userData
    }

    /// Every assigned partition, sorted.
    public var partitions: [TopicPartition] {
        topics.flatMap { entry in entry.partitions.map { TopicPartition(entry.topic, $0) } }.sorted()
    }

    /// Decodes assignment bytes. Empty bytes — a member whose assignment is not known yet (a
    /// group in a rebalance, which DescribeGroups answers with none) — are an empty assignment.
    /// - Throws: `ProtocolError` for a negative version or bytes that do not decode.
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> ConsumerProtocolAssignment {
        if bytes.isEmpty { return ConsumerProtocolAssignment(version: 0, topics: [], userData: nil) }
        var reader = ProtocolReader(bytes)
        let version = try reader.readInt16()
        guard version >= 0 else {
            throw ProtocolError(.unsupportedRecordVersion(record: "ConsumerProtocolAssignment", version: version), position: 0)
        }
        var topics: [(topic: String, partitions: [Int32])] = []
        let topicCount = try reader.readArrayCount(compact: false, nullable: false, field: "AssignedPartitions", minimumElementBytes: 6) ?? 0
        for _ in 0..<topicCount {
            let topic = try reader.readNonNullString(compact: false, field: "Topic")
            let count = try reader.readArrayCount(compact: false, nullable: false, field: "Partitions", minimumElementBytes: 4) ?? 0
            var partitions: [Int32] = []
            for _ in 0..<count { partitions.append(try reader.readInt32()) }
            topics.append((topic, partitions))
        }
        // Some assignors end the bytes before the user data; bytes after it belong to a later
        // version's fields. Neither is an error, as in Kafka's reader.
        var userData: [UInt8]?
        if reader.remaining > 0 { userData = try reader.readBytes(compact: false, nullable: true, field: "UserData").map { Array($0) } }
        return ConsumerProtocolAssignment(version: version, topics: topics, userData: userData)
    }

    public static func == (lhs: ConsumerProtocolAssignment, rhs: ConsumerProtocolAssignment) -> Bool {
        lhs.version == rhs.version && lhs.userData == rhs.userData
            && lhs.topics.map(\.topic) == rhs.topics.map(\.topic) && lhs.topics.map(\.partitions) == rhs.topics.map(\.partitions)
    }
}
