/// CreatePartitions (key 37), versions 0–2: adds partitions to a topic.
public struct CreatePartitionsRequest: Sendable, Equatable {
    public var topics: [(name: String, count: Int32)]
    public var timeoutMs: Int32
    public var validateOnly: Bool

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.topics.map(\.name) == rhs.topics.map(\.name) && lhs.topics.map(\.count) == rhs.topics.map(\.count)
            && lhs.timeoutMs == rhs.timeoutMs && lhs.validateOnly == rhs.validateOnly
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> CreatePartitionsRequest {
        let flexible = ApiKey.createPartitions.isFlexible(version)
        var topics: [(name: String, count: Int32)] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topics") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic name")
            let count = try reader.readInt32()
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "assignments") ?? 0) {
                for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "broker ids", minimumElementBytes: 4) ?? 0) { _ = try reader.readInt32() }
                if flexible { try reader.skipTaggedFields() }
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append((name, count))
        }
        let timeout = try reader.readInt32()
        let validateOnly = try reader.readBool()
        if flexible { try reader.skipTaggedFields() }
        return CreatePartitionsRequest(topics: topics, timeoutMs: timeout, validateOnly: validateOnly)
    }
}

public struct CreatePartitionsResponse: Sendable {
    public var results: [(name: String, errorCode: ErrorCode, errorMessage: String?)]

    public init(results: [(name: String, errorCode: ErrorCode, errorMessage: String?)]) { self.results = results }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.createPartitions.isFlexible(version)
        writer.writeInt32(0)  // throttle
        writer.writeArray(results, compact: flexible) { writer, result in
            writer.writeString(result.name, compact: flexible)
            writer.writeInt16(result.errorCode.rawValue)
            writer.writeString(result.errorMessage, compact: flexible)
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}

/// DescribeConfigs (key 32), versions 1–4: the settings of topics and brokers.
public struct DescribeConfigsRequest: Sendable, Equatable {
    public struct Resource: Sendable, Equatable {
        /// 2 = topic, 4 = broker.
        public var resourceType: Int8
        public var resourceName: String
        /// nil: every key.
        public var configurationKeys: [String]?
    }

    public static let topicResource: Int8 = 2
    public static let brokerResource: Int8 = 4

    public var resources: [Resource]
    public var includeSynonyms: Bool
    public var includeDocumentation: Bool

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> DescribeConfigsRequest {
        let flexible = ApiKey.describeConfigs.isFlexible(version)
        var resources: [Resource] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "resources") ?? 0) {
            let type = try reader.readInt8()
            let name = try reader.readNonNullString(compact: flexible, field: "resource name")
            var keys: [String]?
            if let count = try reader.readArrayCount(compact: flexible, field: "configuration keys") {
                var list: [String] = []
                for _ in 0..<count { list.append(try reader.readNonNullString(compact: flexible, field: "configuration key")) }
                keys = list
            }
            if flexible { try reader.skipTaggedFields() }
            resources.append(Resource(resourceType: type, resourceName: name, configurationKeys: keys))
        }
        let synonyms = version >= 1 ? try reader.readBool() : false
        let documentation = version >= 3 ? try reader.readBool() : false
        if flexible { try reader.skipTaggedFields() }
        return DescribeConfigsRequest(resources: resources, includeSynonyms: synonyms, includeDocumentation: documentation)
    }
}

public struct DescribeConfigsResponse: Sendable {
    public struct Config: Sendable {
        public var name: String
        public var value: String?
        public var readOnly: Bool
        /// 4 static broker config, 5 default.
        public var source: Int8
        /// Kafka's ConfigType: 1 boolean, 2 string, 3 int, 5 long, 7 list.
        public var type: Int8

        public init(name: String, value: String?, readOnly: Bool = false, source: Int8 = 5, type: Int8 = 2) {
            self.name = name
            self.value = value
            self.readOnly = readOnly
            self.source = source
            self.type = type
        }
    }

    public struct Result: Sendable {
        public var errorCode: ErrorCode
        public var errorMessage: String?
        public var resourceType: Int8
        public var resourceName: String
        public var configs: [Config]

        public init(errorCode: ErrorCode, errorMessage: String? = nil, resourceType: Int8, resourceName: String, configs: [Config]) {
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configs = configs
        }
    }

    public var results: [Result]

    public init(results: [Result]) { self.results = results }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.describeConfigs.isFlexible(version)
        writer.writeInt32(0)  // throttle
        writer.writeArray(results, compact: flexible) { writer, result in
            writer.writeInt16(result.errorCode.rawValue)
            writer.writeString(result.errorMessage, compact: flexible)
            writer.writeInt8(result.resourceType)
            writer.writeString(result.resourceName, compact: flexible)
            writer.writeArray(result.configs, compact: flexible) { writer, config in
                writer.writeString(config.name, compact: flexible)
                writer.writeString(config.value, compact: flexible)
                writer.writeBool(config.readOnly)
                if version >= 1 { writer.writeInt8(config.source) } else { writer.writeBool(config.source == 5) }
                writer.writeBool(false)  // is_sensitive
                if version >= 1 { writer.writeArrayCount(0, compact: flexible) }  // synonyms
                if version >= 3 {
                    writer.writeInt8(config.type)
                    writer.writeString(nil, compact: flexible)  // documentation
                }
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}

/// OffsetForLeaderEpoch (key 23), versions 2–4: the end offset of a leader epoch, which clients
/// use to check their position after a leader change. A single node has one epoch, 0.
public struct OffsetForLeaderEpochRequest: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var currentLeaderEpoch: Int32
        public var leaderEpoch: Int32
    }

    public var replicaId: Int32
    public var topics: [(topic: String, partitions: [Partition])]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.replicaId == rhs.replicaId && lhs.topics.map(\.topic) == rhs.topics.map(\.topic) && lhs.topics.map(\.partitions) == rhs.topics.map(\.partitions)
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> OffsetForLeaderEpochRequest {
        let flexible = ApiKey.offsetForLeaderEpoch.isFlexible(version)
        let replicaId = version >= 3 ? try reader.readInt32() : -2
        var topics: [(topic: String, partitions: [Partition])] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topics") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic")
            var partitions: [Partition] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "partitions", minimumElementBytes: 8) ?? 0) {
                let partition = try reader.readInt32()
                let current = version >= 2 ? try reader.readInt32() : -1
                let epoch = try reader.readInt32()
                if flexible { try reader.skipTaggedFields() }
                partitions.append(Partition(partition: partition, currentLeaderEpoch: current, leaderEpoch: epoch))
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append((name, partitions))
        }
        if flexible { try reader.skipTaggedFields() }
        return OffsetForLeaderEpochRequest(replicaId: replicaId, topics: topics)
    }
}

public struct OffsetForLeaderEpochResponse: Sendable {
    public struct Partition: Sendable {
        public var errorCode: ErrorCode
        public var partition: Int32
        public var leaderEpoch: Int32
        public var endOffset: Int64

        public init(errorCode: ErrorCode, partition: Int32, leaderEpoch: Int32, endOffset: Int64) {
            self.errorCode = errorCode
            self.partition = partition
            self.leaderEpoch = leaderEpoch
            self.endOffset = endOffset
        }
    }

    public var topics: [(topic: String, partitions: [Partition])]

    public init(topics: [(topic: String, partitions: [Partition])]) { self.topics = topics }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.offsetForLeaderEpoch.isFlexible(version)
        if version >= 2 { writer.writeInt32(0) }
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeString(topic.topic, compact: flexible)
            writer.writeArray(topic.partitions, compact: flexible) { writer, partition in
                writer.writeInt16(partition.errorCode.rawValue)
                writer.writeInt32(partition.partition)
                if version >= 1 { writer.writeInt32(partition.leaderEpoch) }
                writer.writeInt64(partition.endOffset)
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
