import PetrelProtocol

/// Fetch (key 1), v4–12. The record batches stay in their segment files: the response names
/// file ranges that the server sends with `sendfile`.
struct FetchHandler: RequestHandler {
    let replicaManager: ReplicaManager
    var versions: ClosedRange<Int16> { 4...12 }
    var respondsOnly: Bool { true }

    func handle(_ request: FetchRequest, context: RequestContext) async -> HandlerResult<FetchResponse> {
        let parameters = ReplicaManager.FetchParameters(
            topics: request.topics.map { topic in
                .init(topic: topic.topic, partitions: topic.partitions.map {
                    .init(partition: $0.partition, fetchOffset: $0.fetchOffset, partitionMaxBytes: $0.partitionMaxBytes)
                })
            },
            maxWaitMs: request.maxWaitMs, minBytes: request.minBytes, maxBytes: request.maxBytes,
            isolation: request.isolationLevel == 1 ? .readCommitted : .readUncommitted)
        let result = await replicaManager.fetchMessages(parameters)
        var response = FetchResponse()
        for (topic, partitions) in zip(request.topics, result.topics) where !partitions.isEmpty {
            // A partition with an error carries an empty record set, never a null one:
            // librdkafka rejects a null set as "invalid MessageSetSize -1" and never applies
            // `auto.offset.reset` (Kafka sends an empty set too).
            response.responses.append(.init(topic: topic.topic, partitions: partitions.map { partition in
                .init(partitionIndex: partition.partition, errorCode: partition.errorCode, highWatermark: partition.highWatermark,
                      lastStableOffset: partition.lastStableOffset, logStartOffset: partition.logStartOffset,
                      records: partition.fileIndex.map { .external(tag: $0, count: result.files[$0].count) } ?? .empty)
            }))
        }
        return .respond(response, files: result.files)
    }
}
