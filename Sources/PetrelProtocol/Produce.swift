/// Produce (key 0). Versions 3–9 are implemented; 0–2 are advertised (librdkafka before 2.11.1
/// disables compression when Produce's minimum is above 0) and answered UNSUPPORTED_VERSION.
public struct ProduceRequest: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var index: Int32
        /// The records as sent: RecordBatch v2 bytes, a slice of the request frame (no copy).
        public var records: ArraySlice<UInt8>?
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var partitions: [Partition]
    }

    public var transactionalId: String?
    /// 0: no response at all; 1: after the leader's append; -1 (all): after it is durable.
    public var acks: Int16
    public var timeoutMs: Int32
    public var topics: [Topic]

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> ProduceRequest {
        let flexible = ApiKey.produce.isFlexible(version)
        let transactionalId = version >= 3 ? try reader.readString(compact: flexible, field: "transactional_id") : nil
        let acks = try reader.readInt16()
        let timeout = try reader.readInt32()
        var topics: [Topic] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topic_data") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic name")
            var partitions: [Partition] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "partition_data", minimumElementBytes: 5) ?? 0) {
                let index = try reader.readInt32()
                let records = try reader.readBytes(compact: flexible, field: "records")
                if flexible { try reader.skipTaggedFields() }
                partitions.append(Partition(index: index, records: records))
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append(Topic(name: name, partitions: partitions))
        }
        if flexible { try reader.skipTaggedFields() }
        return ProduceRequest(transactionalId: transactionalId, acks: acks, timeoutMs: timeout, topics: topics)
    }
}

public struct ProduceResponse: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var index: Int32
        public var errorCode: ErrorCode
        public var baseOffset: Int64
        public var logAppendTimeMs: Int64
        public var logStartOffset: Int64
        public var errorMessage: String?

        public init(index: Int32, errorCode: ErrorCode, baseOffset: Int64 = -1, logAppendTimeMs: Int64 = -1, logStartOffset: Int64 = -1,
                    errorMessage: String? = nil) {
            self.index = index
            self.errorCode = errorCode
            self.baseOffset = baseOffset
            self.logAppendTimeMs = logAppendTimeMs
            self.logStartOffset = logStartOffset
            self.errorMessage = errorMessage
        }
    }

    public typealias Topic = NamedPartitions<Partition>

    public var topics: [Topic]
    public var throttleTimeMs: Int32

    public init(topics: [Topic], throttleTimeMs: Int32 = 0) {
        self.topics = topics
        self.throttleTimeMs = throttleTimeMs
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.produce.isFlexible(version)
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeString(topic.name, compact: flexible)
            writer.writeArray(topic.partitions, compact: flexible) { writer, partition in
                writer.writeInt32(partition.index)
                writer.writeInt16(partition.errorCode.rawValue)
                writer.writeInt64(partition.baseOffset)
                if version >= 2 { writer.writeInt64(partition.logAppendTimeMs) }
                if version >= 5 { writer.writeInt64(partition.logStartOffset) }
                if version >= 8 {
                    writer.writeArrayCount(0, compact: flexible)  // record_errors
                    writer.writeString(partition.errorMessage, compact: flexible)
                }
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if version >= 1 { writer.writeInt32(throttleTimeMs) }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
