import PetrelCoordinator
import PetrelProtocol
import PetrelStorage

/// OffsetFetch (key 9), v1–8: committed offsets of a group (v8: of several groups), of the
/// partitions named or, with none named (v2+), of every partition with a commit. A partition
/// without a commit is offset -1. `require_stable` needs no waiting until transactions exist.
struct OffsetFetchHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 1...8 }
    var respondsOnly: Bool { true }

    typealias Partitions = [(topic: String, partitions: [Int32])]

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async -> HandlerResult<OffsetFetchResponse> {
        if context.apiVersion >= 8 {
            return .respond(OffsetFetchResponse(groups: request.groups.map { group in
                let asked = group.topics.map { $0.map { (topic: $0.name, partitions: $0.partitionIndexes) } }
                let (error, topics) = fetch(group.groupId, asked)
                return OffsetFetchResponse.OffsetFetchResponseGroup(groupId: group.groupId, topics: topics.map { topic in
                    OffsetFetchResponse.OffsetFetchResponseTopics(name: topic.name, partitions: topic.partitions.map {
                        OffsetFetchResponse.OffsetFetchResponsePartitions(partitionIndex: $0.partitionIndex, committedOffset: $0.committedOffset,
                                                                          committedLeaderEpoch: $0.committedLeaderEpoch, metadata: $0.metadata,
                                                                          errorCode: $0.errorCode)
                    })
                }, errorCode: error)
            }))
        }
        let asked = request.topics.map { $0.map { (topic: $0.name, partitions: $0.partitionIndexes) } }
        let (error, topics) = fetch(request.groupId, asked)
        if context.apiVersion < 2, error != .none {
            // v0–1 have no group error: each partition carries it.
            let failed = (asked ?? []).map { topic in
                OffsetFetchResponse.OffsetFetchResponseTopic(name: topic.topic, partitions: topic.partitions.map {
                    OffsetFetchResponse.OffsetFetchResponsePartition(partitionIndex: $0, committedOffset: -1, errorCode: error)
                })
            }
            return .respond(OffsetFetchResponse(topics: failed))
        }
        return .respond(OffsetFetchResponse(topics: topics, errorCode: error))
    }

    private func fetch(_ groupId: String, _ asked: Partitions?) -> (ErrorCode, [OffsetFetchResponse.OffsetFetchResponseTopic]) {
        let wanted = asked.map { $0.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) } } }
        switch groups.fetchOffsets(groupId: groupId, partitions: wanted) {
        case let .failure(error):
            return (error, [])
        case let .success(offsets):
            var order: [String] = []
            var byTopic: [String: [OffsetFetchResponse.OffsetFetchResponsePartition]] = [:]
            for (partition, committed) in offsets {
                if byTopic[partition.topic] == nil { order.append(partition.topic) }
                byTopic[partition.topic, default: []].append(OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: partition.partition, committedOffset: committed?.offset ?? -1,
                    committedLeaderEpoch: committed?.leaderEpoch ?? -1, metadata: committed?.metadata ?? ""))
            }
            return (.none, order.map { OffsetFetchResponse.OffsetFetchResponseTopic(name: $0, partitions: byTopic[$0] ?? []) })
        }
    }
}
