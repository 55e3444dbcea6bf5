import PetrelProtocol

/// OffsetForLeaderEpoch (key 23), v2–4: where each asked epoch ends.
struct OffsetForLeaderEpochHandler: RequestHandler {
    let replicaManager: ReplicaManager
    var versions: ClosedRange<Int16> { 2...4 }
    var respondsOnly: Bool { true }

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async -> HandlerResult<OffsetForLeaderEpochResponse> {
        .respond(OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                let end = replicaManager.endOffset(topic.topic, partition.partition, forLeaderEpoch: partition.leaderEpoch)
                return .init(errorCode: end.errorCode, partition: partition.partition, leaderEpoch: end.leaderEpoch, endOffset: end.endOffset)
            })
        }))
    }
}
