/// Metadata (key 3), versions 0–12: brokers, cluster id, controller, topics and partitions.
public struct MetadataRequest: Sendable, Equatable {
    public struct Topic: Sendable, Equatable {
        /// v10+; all zeros when the topic is asked for by name.
        public var topicId: [UInt8]
        public var name: String?

        public init(topicId: [UInt8] = MetadataRequest.zeroTopicId, name: String?) {
            self.topicId = topicId
            self.name = name
        }
    }

    public static let zeroTopicId = [UInt8](repeating: 0, count: 16)

    /// nil asks for every topic (v0 says that with an empty array instead).
    public var topics: [Topic]?
    public var allowAutoTopicCreation: Bool
    public var includeClusterAuthorizedOperations: Bool
    public var includeTopicAuthorizedOperations: Bool

    public init(topics: [Topic]?, allowAutoTopicCreation: Bool = true, includeClusterAuthorizedOperations: Bool = false,
                includeTopicAuthorizedOperations: Bool = false) {
        self.topics = topics
        self.allowAutoTopicCreation = allowAutoTopicCreation
        self.includeClusterAuthorizedOperations = includeClusterAuthorizedOperations
        self.includeTopicAuthorizedOperations = includeTopicAuthorizedOperations
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> MetadataRequest {
        let flexible = ApiKey.metadata.isFlexible(version)
        var topics: [Topic]?
        if let count = try reader.readArrayCount(compact: flexible, field: "topics") {
            var list: [Topic] = []
            for _ in 0..<count {
                let id = version >= 10 ? try reader.readUUID() : zeroTopicId
                let name = version >= 10 ? try reader.readString(compact: flexible, field: "topic name")
                    : try reader.readNonNullString(compact: flexible, field: "topic name")
                if flexible { try reader.skipTaggedFields() }
                list.append(Topic(topicId: id, name: name))
            }
            // In v0 an empty list means every topic; from v1 on, null does.
            topics = version == 0 && list.isEmpty ? nil : list
        }
        let allow = version >= 4 ? try reader.readBool() : true
        let clusterOperations = (8...10).contains(version) ? try reader.readBool() : false
        let topicOperations = version >= 8 ? try reader.readBool() : false
        if flexible { try reader.skipTaggedFields() }
        return MetadataRequest(topics: topics, allowAutoTopicCreation: allow, includeClusterAuthorizedOperations: clusterOperations,
                               includeTopicAuthorizedOperations: topicOperations)
    }
}

public struct MetadataResponse: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?

        public init(nodeId: Int32, host: String, port: Int32, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }
    }

    public struct Partition: Sendable, Equatable {
        public var errorCode: ErrorCode
        public var partitionIndex: Int32
        public var leaderId: Int32
        public var leaderEpoch: Int32
        public var replicaNodes: [Int32]
        public var isrNodes: [Int32]
        public var offlineReplicas: [Int32]

        public init(errorCode: ErrorCode = .none, partitionIndex: Int32, leaderId: Int32, leaderEpoch: Int32 = 0,
                    replicaNodes: [Int32], isrNodes: [Int32], offlineReplicas: [Int32] = []) {
            self.errorCode = errorCode
            self.partitionIndex = partitionIndex
            self.leaderId = leaderId
            self.leaderEpoch = leaderEpoch
            self.replicaNodes = replicaNodes
            self.isrNodes = isrNodes
            self.offlineReplicas = offlineReplicas
        }
    }

    public struct Topic: Sendable, Equatable {
        public var errorCode: ErrorCode
        public var name: String?
        public var topicId: [UInt8]
        public var isInternal: Bool
        public var partitions: [Partition]
        public var topicAuthorizedOperations: Int32

        public init(errorCode: ErrorCode = .none, name: String?, topicId: [UInt8] = MetadataRequest.zeroTopicId, isInternal: Bool = false,
                    partitions: [Partition], topicAuthorizedOperations: Int32 = Int32.min) {
            self.errorCode = errorCode
            self.name = name
            self.topicId = topicId
            self.isInternal = isInternal
            self.partitions = partitions
            self.topicAuthorizedOperations = topicAuthorizedOperations
        }
    }

    public var throttleTimeMs: Int32
    public var brokers: [Broker]
    public var clusterId: String?
    public var controllerId: Int32
    public var topics: [Topic]
    public var clusterAuthorizedOperations: Int32

    public init(throttleTimeMs: Int32 = 0, brokers: [Broker], clusterId: String?, controllerId: Int32, topics: [Topic],
                clusterAuthorizedOperations: Int32 = Int32.min) {
        self.throttleTimeMs = throttleTimeMs
        self.brokers = brokers
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.topics = topics
        self.clusterAuthorizedOperations = clusterAuthorizedOperations
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let flexible = ApiKey.metadata.isFlexible(version)
        if version >= 3 { writer.writeInt32(throttleTimeMs) }
        writer.writeArray(brokers, compact: flexible) { writer, broker in
            writer.writeInt32(broker.nodeId)
            writer.writeString(broker.host, compact: flexible)
            writer.writeInt32(broker.port)
            if version >= 1 { writer.writeString(broker.rack, compact: flexible) }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if version >= 2 { writer.writeString(clusterId, compact: flexible) }
        if version >= 1 { writer.writeInt32(controllerId) }
        writer.writeArray(topics, compact: flexible) { writer, topic in
            writer.writeInt16(topic.errorCode.rawValue)
            writer.writeString(topic.name ?? (version >= 12 ? nil : ""), compact: flexible)
            if version >= 10 { writer.writeUUID(topic.topicId) }
            if version >= 1 { writer.writeBool(topic.isInternal) }
            writer.writeArray(topic.partitions, compact: flexible) { writer, partition in
                writer.writeInt16(partition.errorCode.rawValue)
                writer.writeInt32(partition.partitionIndex)
                writer.writeInt32(partition.leaderId)
                if version >= 7 { writer.writeInt32(partition.leaderEpoch) }
                writer.writeArray(partition.replicaNodes, compact: flexible) { $0.writeInt32($1) }
                writer.writeArray(partition.isrNodes, compact: flexible) { $0.writeInt32($1) }
                if version >= 5 { writer.writeArray(partition.offlineReplicas, compact: flexible) { $0.writeInt32($1) } }
                if flexible { writer.writeEmptyTaggedFields() }
            }
            if version >= 8 { writer.writeInt32(topic.topicAuthorizedOperations) }
            if flexible { writer.writeEmptyTaggedFields() }
        }
        if (8...10).contains(version) { writer.writeInt32(clusterAuthorizedOperations) }
        if flexible { writer.writeEmptyTaggedFields() }
    }
}
