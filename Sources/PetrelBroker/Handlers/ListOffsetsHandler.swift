import PetrelProtocol

/// ListOffsets (key 2), v1–7: the earliest, latest, max-timestamp or by-timestamp offset of
/// each partition.
struct ListOffsetsHandler: RequestHandler {
    let replicaManager: ReplicaManager
    let executor: StorageExecutor
    var versions: ClosedRange<Int16> { 1...7 }
    var respondsOnly: Bool { true }

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async -> HandlerResult<ListOffsetsResponse> {
        let asked = request.topics.map { topic in (topic.name, topic.partitions.map { ($0.partitionIndex, $0.timestamp) }) }
        // Blocking: a lookup by timestamp reads indexes and segments.
        let found = await executor.run { [replicaManager] in
            asked.map { topic, partitions in partitions.map { replicaManager.offset(topic, $0.0, forTimestamp: $0.1) } }
        }
        // v1–3 carry no leader epoch, and the schema makes writing one there an error.
        let withEpoch = context.apiVersion >= 4
        return .respond(ListOffsetsResponse(topics: zip(request.topics, found).map { topic, lookups in
            .init(name: topic.name, partitions: zip(topic.partitions, lookups).map { partition, lookup in
                .init(partitionIndex: partition.partitionIndex, errorCode: lookup.errorCode, timestamp: lookup.timestamp,
                      offset: lookup.offset, leaderEpoch: withEpoch ? lookup.leaderEpoch : -1)
            })
        }))
    }
}
