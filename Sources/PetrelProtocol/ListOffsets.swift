/// ListOffsets (key 2), versions 1–7: earliest (-2), latest (-1) or the first offset at or
/// after a timestamp.
public struct ListOffsetsRequest: Sendable, Equatable {
    public static let latestTimestamp: Int64 = -1
    public static let earliestTimestamp: Int64 = -2
    /// KIP-734 (v7+): the offset and timestamp of the record with the largest timestamp.
    public static let maxTimestamp: Int64 = -3

    public struct Partition: Sendable, Equatable {
        public var partitionIndex: Int32
        public var currentLeaderEpoch: Int32
        public var timestamp: Int64
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var partitions: [Partition]
    }

    public var replicaId: Int32
    public var isolationLevel: Int8
    public var topics: [Topic]

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> ListOffsetsRequest {
        let flexible = ApiKey.listOffsets.isFlexible(version)
        let replicaId = try reader.readInt32()
        let isolation = version >= 2 ? try reader.readInt8() : 0
        var topics: [Topic] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topics") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic name")
            var partitions: [Partition] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "partitions", minimumElementBytes: 12) ?? 0) {
                let index = try reader.readInt32()
                let epoch = version >= 4 ? try reader.readInt32() : -1
                let timestamp = try reader.readInt64()
                if version == 0 { _ = try reader.readInt32() }  // max_num_offsets
                if flexible { try reader.skipTaggedFields() }
                partitions.append(Partition(partitionIndex: index, currentLeaderEpoch: epoch, timestamp: timestamp))
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append(Topic(name: name, partitions: partitions))
        }
        if flexible { try reader.skipTaggedFields() }
        return ListOffsetsRequest(replicaId: replicaId, isolationLevel: isolation, topics: topics)
    }
}

public struct ListOffsetsResponse: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partitionIndex: Int32
        public var errorCode: ErrorCode
        public var timestamp: Int64
        public var offset: Int64
        public var leaderEpoch: Int32

        public init(partitionIndex: Int32, errorCode: ErrorCode, timestamp: Int64 = -1, offset: Int64 = -1, leaderEpoch: Int32 = -1) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.timestamp = timestamp
            self.offset = offset
            self.leaderEpoch = leaderEpoch
        }
    }

    public typealias Topic = NamedPartitions<Partition>

    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(throttleTimeMs: Int32 = 0, topics: [Topic]) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.listOffsets.isFlexible(version)
        if version >= 2 { writer.writeInt32(throttleTimeMs) }
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeString(topic.name, compact: flexible)
            writer.writeArray(topic.partitions, compact: flexible) { writer, partition in
                writer.writeInt32(partition.partitionIndex)
                writer.writeInt16(partition.errorCode.rawValue)
                writer.writeInt64(partition.timestamp)
                writer.writeInt64(partition.offset)
                if version >= 4 { writer.writeInt32(partition.leaderEpoch) }
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
