import PetrelProtocol
import PetrelStorage

/// CreateTopics (key 19), v2–5: each topic all or nothing; bounded by the per-request and
/// broker-wide partition limits; a single node takes replication factor 1 (or -1) only.
struct CreateTopicsHandler: RequestHandler {
    let topics: TopicRegistry
    let executor: StorageExecutor
    let config: BrokerConfig
    var versions: ClosedRange<Int16> { 2...5 }
    var respondsOnly: Bool { false }

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async -> HandlerResult<CreateTopicsResponse> {
        // Blocking: creating partitions makes directories and files, and fsyncs them.
        .respond(await executor.run { [self] in createTopics(request) })
    }

    private func createTopics(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        var partitionsInRequest = 0
        return CreateTopicsResponse(topics: request.topics.map { topic in
            func refused(_ code: ErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                .init(name: topic.name, errorCode: code, errorMessage: message, configs: nil)
            }
            let spec: TopicRegistry.TopicSpec
            do throws(TopicRegistry.TopicChangeError) { spec = try topics.validate(Self.spec(of: topic), default: config) } catch {
                return refused(error.code, error.message)
            }
            guard topics.info(topic.name) == nil else { return refused(.topicAlreadyExists, "topic \(topic.name) already exists") }
            do throws(TopicRegistry.TopicChangeError) { try topics.checkPartitionBudget(adding: Int(spec.partitions), alreadyInRequest: partitionsInRequest) } catch {
                return refused(error.code, error.message)
            }
            partitionsInRequest += Int(spec.partitions)
            if !request.validateOnly {
                do { try topics.create(topic.name, partitions: spec.partitions, configs: spec.configs) } catch let error as TopicRegistry.TopicChangeError {
                    return refused(error.code, error.message)
                } catch {
                    return refused(.kafkaStorageError, "\(error)")
                }
            }
            return .init(name: topic.name, errorCode: .none, errorMessage: nil, numPartitions: spec.partitions, replicationFactor: 1, configs: nil)
        })
    }

    static func spec(of topic: CreateTopicsRequest.CreatableTopic) -> TopicRegistry.RequestedTopic {
        TopicRegistry.RequestedTopic(name: topic.name, numPartitions: topic.numPartitions, replicationFactor: topic.replicationFactor,
                                     assignments: topic.assignments.map { ($0.partitionIndex, $0.brokerIds) },
                                     configs: topic.configs.map { ($0.name, $0.value) })
    }
}
