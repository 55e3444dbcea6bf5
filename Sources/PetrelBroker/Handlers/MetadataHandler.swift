import Foundation
import PetrelProtocol
import PetrelStorage

/// Metadata (key 3), v0–12: this broker, the cluster id, and each topic asked for (created on
/// first use when `auto.create.topics.enable` and the request allows it).
struct MetadataHandler: RequestHandler {
    let topics: TopicRegistry
    let executor: StorageExecutor
    let node: BrokerNode
    var versions: ClosedRange<Int16> { 0...12 }
    // Not only a response: a Metadata request may create the topics it names (auto-creation).
    var respondsOnly: Bool { false }

    /// With no authorizer every operation is allowed, so the authorized operations are all the
    /// ones each resource supports (Kafka's `AclOperation` codes as bits), as Kafka answers.
    static let topicAuthorizedOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | 1 << $1 }
    static let clusterAuthorizedOperations: Int32 = [5, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | 1 << $1 }

    func handle(_ request: MetadataRequest, context: RequestContext) async -> HandlerResult<MetadataResponse> {
        // In v0 an empty list means every topic; from v1 on, null does.
        let asked = context.apiVersion == 0 && request.topics?.isEmpty == true ? nil : request.topics
        let listed = asked?.compactMap(\.name) ?? topics.names
        let names = Array(NSOrderedSet(array: listed)) as? [String] ?? listed
        let allowCreation = request.allowAutoTopicCreation
        // Blocking: it may create topics.
        let found = await executor.run { [topics] in
            names.map { name -> Result<TopicRegistry.TopicInfo, TopicRegistry.TopicChangeError> in
                guard TopicPartition.isValidTopicName(name) else {
                    // INVALID_TOPIC_EXCEPTION: librdkafka then fails the messages at once
                    // instead of holding them for message.timeout.ms.
                    return .failure(.init(code: .invalidTopicException, message: "invalid topic name"))
                }
                if let info = topics.info(name) { return .success(info) }
                if allowCreation, let created = topics.autoCreate(name) { return created }
                return .failure(.init(code: .unknownTopicOrPartition, message: "no topic \(name)"))
            }
        }
        let topicOperations = request.includeTopicAuthorizedOperations ? Self.topicAuthorizedOperations : Int32.min
        let answers = zip(names, found).map { name, result -> MetadataResponse.MetadataResponseTopic in
            switch result {
            case let .failure(error):
                return .init(errorCode: error.code, name: name, partitions: [])
            case let .success(info):
                let partitions = (0..<info.partitions).map {
                    MetadataResponse.MetadataResponsePartition(partitionIndex: $0, leaderId: node.nodeId, leaderEpoch: 0,
                                                               replicaNodes: [node.nodeId], isrNodes: [node.nodeId])
                }
                return .init(name: name, topicId: Uuid(bytes: info.topicId) ?? .zero, isInternal: info.isInternal, partitions: partitions,
                             topicAuthorizedOperations: topicOperations)
            }
        }
        return .respond(MetadataResponse(
            brokers: [.init(nodeId: node.nodeId, host: node.host, port: node.port)], clusterId: node.clusterId,
            controllerId: node.nodeId, topics: answers,
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.clusterAuthorizedOperations : Int32.min))
    }
}

/// This broker as Metadata describes it.
struct BrokerNode: Sendable {
    let nodeId: Int32
    let host: String
    let port: Int32
    let clusterId: String
}
