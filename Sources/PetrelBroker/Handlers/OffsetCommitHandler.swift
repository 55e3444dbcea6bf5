import PetrelCoordinator
import PetrelProtocol
import PetrelStorage

/// OffsetCommit (key 8), v2–8: commits go to the group coordinator; a partition that does not
/// exist is UNKNOWN_TOPIC_OR_PARTITION, as in Kafka, and is not written.
struct OffsetCommitHandler: RequestHandler {
    let groups: GroupCoordinator
    let topics: TopicRegistry
    var versions: ClosedRange<Int16> { 2...8 }
    var respondsOnly: Bool { false }

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> HandlerResult<OffsetCommitResponse> {
        var offsets: [OffsetToCommit] = []
        var errors: [TopicPartition: ErrorCode] = [:]
        for topic in request.topics {
            let partitionCount = topics.info(topic.name)?.partitions ?? 0
            for partition in topic.partitions {
                let target = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                guard (0..<partitionCount).contains(partition.partitionIndex) else {
                    errors[target] = .unknownTopicOrPartition
                    continue
                }
                offsets.append(OffsetToCommit(partition: target, offset: partition.committedOffset,
                                              leaderEpoch: context.apiVersion >= 6 ? partition.committedLeaderEpoch : -1,
                                              metadata: partition.committedMetadata))
            }
        }
        let results = await groups.commitOffsets(OffsetCommitParameters(
            groupId: request.groupId, generationId: request.generationIdOrMemberEpoch, memberId: request.memberId,
            groupInstanceId: request.groupInstanceId, offsets: offsets))
        for (offset, error) in zip(offsets, results) { errors[offset.partition] = error }
        return .respond(OffsetCommitResponse(topics: request.topics.map { topic in
            OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, partitions: topic.partitions.map {
                OffsetCommitResponse.OffsetCommitResponsePartition(
                    partitionIndex: $0.partitionIndex,
                    errorCode: errors[TopicPartition(topic: topic.name, partition: $0.partitionIndex)] ?? .none)
            })
        }))
    }
}
