/// CreateTopics (key 19), versions 2–5.
public struct CreateTopicsRequest: Sendable, Equatable {
    public struct Topic: Sendable, Equatable {
        public var name: String
        /// -1: the broker's default (`num.partitions`).
        public var numPartitions: Int32
        public var replicationFactor: Int16
        public var configs: [(name: String, value: String?)]
        /// Manual replica assignments: partition index → broker ids (numPartitions and
        /// replicationFactor are -1 when these are given).
        public var assignments: [(partitionIndex: Int32, brokerIds: [Int32])] = []

        public init(name: String, numPartitions: Int32, replicationFactor: Int16, configs: [(name: String, value: String?)],
                    assignments: [(partitionIndex: Int32, brokerIds: [Int32])] = []) {
            self.name = name
            self.numPartitions = numPartitions
            self.replicationFactor = replicationFactor
            self.configs = configs
            self.assignments = assignments
        }

        public static func == (lhs: Topic, rhs: Topic) -> Bool {
            lhs.name == rhs.name && lhs.numPartitions == rhs.numPartitions && lhs.replicationFactor == rhs.replicationFactor
                && lhs.assignments.map(\.partitionIndex) == rhs.assignments.map(\.partitionIndex)
                && lhs.assignments.map(\.brokerIds) == rhs.assignments.map(\.brokerIds)
                && lhs.configs.map(\.name) == rhs.configs.map(\.name) && lhs.configs.map(\.value) == rhs.configs.map(\.value)
        }
    }

    public var topics: [Topic]
    public var timeoutMs: Int32
    public var validateOnly: Bool

    public init(topics: [Topic], timeoutMs: Int32, validateOnly: Bool) {
        self.topics = topics
        self.timeoutMs = timeoutMs
        self.validateOnly = validateOnly
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> CreateTopicsRequest {
        let flexible = ApiKey.createTopics.isFlexible(version)
        var topics: [Topic] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topics") ?? 0) {
            let name = try reader.readNonNullString(compact: flexible, field: "topic name")
            let partitions = try reader.readInt32()
            let replication = try reader.readInt16()
            var assignments: [(partitionIndex: Int32, brokerIds: [Int32])] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "assignments", minimumElementBytes: 5) ?? 0) {
                let index = try reader.readInt32()
                var brokers: [Int32] = []
                for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "broker ids", minimumElementBytes: 4) ?? 0) {
                    brokers.append(try reader.readInt32())
                }
                if flexible { try reader.skipTaggedFields() }
                assignments.append((index, brokers))
            }
            var configs: [(name: String, value: String?)] = []
            for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "configs") ?? 0) {
                let key = try reader.readNonNullString(compact: flexible, field: "config name")
                let value = try reader.readString(compact: flexible, field: "config value")
                if flexible { try reader.skipTaggedFields() }
                configs.append((key, value))
            }
            if flexible { try reader.skipTaggedFields() }
            topics.append(Topic(name: name, numPartitions: partitions, replicationFactor: replication, configs: configs, assignments: assignments))
        }
        let timeout = try reader.readInt32()
        let validateOnly = version >= 1 ? try reader.readBool() : false
        if flexible { try reader.skipTaggedFields() }
        return CreateTopicsRequest(topics: topics, timeoutMs: timeout, validateOnly: validateOnly)
    }
}

public struct CreateTopicsResponse: Sendable, Equatable {
    public struct Topic: Sendable, Equatable {
        public var name: String
        public var errorCode: ErrorCode
        public var errorMessage: String?
        public var numPartitions: Int32
        public var replicationFactor: Int16

        public init(name: String, errorCode: ErrorCode, errorMessage: String? = nil, numPartitions: Int32 = -1, replicationFactor: Int16 = -1) {
            self.name = name
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.numPartitions = numPartitions
            self.replicationFactor = replicationFactor
        }
    }

    public var throttleTimeMs: Int32 = 0
    public var topics: [Topic]

    public init(topics: [Topic]) { self.topics = topics }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.createTopics.isFlexible(version)
        if version >= 2 { writer.writeInt32(throttleTimeMs) }
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeString(topic.name, compact: flexible)
            writer.writeInt16(topic.errorCode.rawValue)
            if version >= 1 { writer.writeString(topic.errorMessage, compact: flexible) }
            if version >= 5 {
                writer.writeInt32(topic.numPartitions)
                writer.writeInt16(topic.replicationFactor)
                writer.writeArrayCount(nil, compact: flexible)  // configs: not reported
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}

/// DeleteTopics (key 20), versions 1–4 (by name).
public struct DeleteTopicsRequest: Sendable, Equatable {
    public var topicNames: [String]
    public var timeoutMs: Int32

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> DeleteTopicsRequest {
        let flexible = ApiKey.deleteTopics.isFlexible(version)
        var names: [String] = []
        for _ in 0..<(try reader.readArrayCount(compact: flexible, field: "topic_names") ?? 0) {
            names.append(try reader.readNonNullString(compact: flexible, field: "topic name"))
        }
        let timeout = try reader.readInt32()
        if flexible { try reader.skipTaggedFields() }
        return DeleteTopicsRequest(topicNames: names, timeoutMs: timeout)
    }
}

public struct DeleteTopicsResponse: Sendable, Equatable {
    public var throttleTimeMs: Int32 = 0
    public var results: [(name: String, errorCode: ErrorCode)]

    public init(results: [(name: String, errorCode: ErrorCode)]) { self.results = results }

    public static func == (lhs: DeleteTopicsResponse, rhs: DeleteTopicsResponse) -> Bool {
        lhs.results.map(\.name) == rhs.results.map(\.name) && lhs.results.map(\.errorCode) == rhs.results.map(\.errorCode)
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.deleteTopics.isFlexible(version)
        if version >= 1 { writer.writeInt32(throttleTimeMs) }
        writer.writeArray(results, compact: flexible) { writer, result in
            writer.writeString(result.name, compact: flexible)
            writer.writeInt16(result.errorCode.rawValue)
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
