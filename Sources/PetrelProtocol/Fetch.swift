/// Fetch (key 1), versions 4–12 (13+ address topics by id, not implemented).
public struct FetchRequest: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var currentLeaderEpoch: Int32
        public var fetchOffset: Int64
        public var logStartOffset: Int64
        public var partitionMaxBytes: Int32
    }

    public struct Topic: Sendable, Equatable {
        public var topic: String
        public var partitions: [Partition]
    }

    public var replicaId: Int32
    public var maxWaitMs: Int32
    public var minBytes: Int32
    public var maxBytes: Int32
    /// 0 read_uncommitted, 1 read_committed.
    public var isolationLevel: Int8
    public var sessionId: Int32
    public var sessionEpoch: Int32
    public var topics: [Topic]
    public var rackId: String

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> FetchRequest {
        let flexible = ApiKey.fetch.isFlexible(version)
        let replicaId = try reader.readInt32()
        let maxWait = try reader.readInt32()
        let minBytes = try reader.readInt32()
        let maxBytes = version >= 3 ? try reader.readInt32() : Int32.max
        let isolation = version >= 4 ? try reader.readInt8() : 0
        let sessionId = version >= 7 ? try reader.readInt32() : 0
        let sessionEpoch = version >= 7 ? try reader.readInt32() : -1
        var topics: [Topic] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topics") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic")
            var partitions: [Partition] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "partitions", minimumElementBytes: 16) ?? 0) {
                let partition = try reader.readInt32()
                let leaderEpoch = version >= 9 ? try reader.readInt32() : -1
                let offset = try reader.readInt64()
                if version >= 12 { _ = try reader.readInt32() }  // last_fetched_epoch (replication)
                let logStart = version >= 5 ? try reader.readInt64() : -1
                let maxPartitionBytes = try reader.readInt32()
                if flexible { try reader.skipTaggedFields() }
                partitions.append(Partition(partition: partition, currentLeaderEpoch: leaderEpoch, fetchOffset: offset,
                                            logStartOffset: logStart, partitionMaxBytes: maxPartitionBytes))
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append(Topic(topic: name, partitions: partitions))
        }
        if version >= 7 {  // forgotten topics: no fetch sessions here, so nothing to forget
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "forgotten_topics_data") ?? 0) {
                _ = try reader.readNonNullString(compact: flexible, field: "forgotten topic")
                for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "forgotten partitions", minimumElementBytes: 4) ?? 0) {
                    _ = try reader.readInt32()
                }
                if flexible { try reader.skipTaggedFields() }
            }
        }
        let rack = version >= 11 ? try reader.readNonNullString(compact: flexible, field: "rack_id") : ""
        if flexible { try reader.skipTaggedFields() }
        return FetchRequest(replicaId: replicaId, maxWaitMs: maxWait, minBytes: minBytes, maxBytes: maxBytes, isolationLevel: isolation,
                            sessionId: sessionId, sessionEpoch: sessionEpoch, topics: topics, rackId: rack)
    }
}

public struct FetchResponse: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partitionIndex: Int32
        public var errorCode: ErrorCode
        public var highWatermark: Int64
        public var lastStableOffset: Int64
        public var logStartOffset: Int64
        /// Whole batches as stored (nil only for errors).
        public var records: [UInt8]?
        /// Instead of `records`: this many bytes the sender supplies, tagged (sent with `sendfile`).
        public var externalRecords: (tag: Int, count: Int)?

        public init(partitionIndex: Int32, errorCode: ErrorCode, highWatermark: Int64, lastStableOffset: Int64, logStartOffset: Int64,
                    records: [UInt8]?, externalRecords: (tag: Int, count: Int)? = nil) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.highWatermark = highWatermark
            self.lastStableOffset = lastStableOffset
            self.logStartOffset = logStartOffset
            self.records = records
            self.externalRecords = externalRecords
        }

        public static func == (lhs: Partition, rhs: Partition) -> Bool {
            lhs.partitionIndex == rhs.partitionIndex && lhs.errorCode == rhs.errorCode && lhs.highWatermark == rhs.highWatermark
                && lhs.lastStableOffset == rhs.lastStableOffset && lhs.logStartOffset == rhs.logStartOffset && lhs.records == rhs.records
                && lhs.externalRecords?.tag == rhs.externalRecords?.tag && lhs.externalRecords?.count == rhs.externalRecords?.count
        }
    }

    public typealias Topic = NamedPartitions<Partition>

    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var sessionId: Int32
    public var topics: [Topic]

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none, sessionId: Int32 = 0, topics: [Topic]) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.sessionId = sessionId
        self.topics = topics
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.fetch.isFlexible(version)
        if version >= 1 { writer.writeInt32(throttleTimeMs) }
        if version >= 7 {
            writer.writeInt16(errorCode.rawValue)
            writer.writeInt32(sessionId)
        }
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeString(topic.name, compact: flexible)
            writer.writeArray(topic.partitions, compact: flexible) { writer, partition in
                writer.writeInt32(partition.partitionIndex)
                writer.writeInt16(partition.errorCode.rawValue)
                writer.writeInt64(partition.highWatermark)
                if version >= 4 { writer.writeInt64(partition.lastStableOffset) }
                if version >= 5 { writer.writeInt64(partition.logStartOffset) }
                if version >= 4 { writer.writeArrayCount(0, compact: flexible) }  // aborted transactions: none yet
                if version >= 11 { writer.writeInt32(-1) }  // preferred read replica: none
                if let external = partition.externalRecords {
                    writer.writeExternalBytes(count: external.count, tag: external.tag, compact: flexible)
                } else {
                    writer.writeBytes(partition.records, compact: flexible)
                }
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
