import PetrelProtocol

/// CreatePartitions (key 37), v0–2: grows topics, each all or nothing, within the partition
/// bounds.
struct CreatePartitionsHandler: RequestHandler {
    let topics: TopicRegistry
    let executor: StorageExecutor
    var versions: ClosedRange<Int16> { 0...2 }
    var respondsOnly: Bool { false }

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async -> HandlerResult<CreatePartitionsResponse> {
        // Blocking: creating partitions makes directories and files, and fsyncs them.
        .respond(await executor.run { [topics] in
            var partitionsInRequest = 0
            return CreatePartitionsResponse(results: request.topics.map { topic in
                func result(_ code: ErrorCode, _ message: String?) -> CreatePartitionsResponse.CreatePartitionsTopicResult {
                    .init(name: topic.name, errorCode: code, errorMessage: message)
                }
                guard let info = topics.info(topic.name) else { return result(.unknownTopicOrPartition, "no topic \(topic.name)") }
                guard topic.count > info.partitions else {
                    return result(.invalidPartitions, "topic \(topic.name) has \(info.partitions) partitions; the count can only grow")
                }
                let adding = Int(topic.count - info.partitions)
                do throws(TopicRegistry.TopicChangeError) { try topics.checkPartitionBudget(adding: adding, alreadyInRequest: partitionsInRequest) } catch {
                    return result(error.code, error.message)
                }
                partitionsInRequest += adding
                if !request.validateOnly {
                    do { try topics.addPartitions(topic.name, count: topic.count) } catch let error as TopicRegistry.TopicChangeError {
                        return result(error.code, error.message)
                    } catch {
                        return result(.kafkaStorageError, "\(error)")
                    }
                }
                return result(.none, nil)
            })
        })
    }
}
