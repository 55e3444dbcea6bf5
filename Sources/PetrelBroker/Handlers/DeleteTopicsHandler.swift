import Logging
import PetrelProtocol

/// DeleteTopics (key 20), v1–4.
struct DeleteTopicsHandler: RequestHandler {
    let topics: TopicRegistry
    let executor: StorageExecutor
    let logger: Logger
    var versions: ClosedRange<Int16> { 1...4 }
    var respondsOnly: Bool { false }

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async -> HandlerResult<DeleteTopicsResponse> {
        // Blocking: closing and removing logs.
        .respond(await executor.run { [topics, logger] in
            DeleteTopicsResponse(responses: request.topicNames.map { name in
                guard topics.info(name) != nil else { return .init(name: name, errorCode: .unknownTopicOrPartition) }
                do { try topics.delete(name) } catch {
                    logger.error("deleting topic \(name) failed: \(error)")
                    return .init(name: name, errorCode: .kafkaStorageError)
                }
                return .init(name: name, errorCode: .none)
            })
        })
    }
}
