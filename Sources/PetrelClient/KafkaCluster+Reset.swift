import PetrelProtocol

extension KafkaCluster {
    /// Plans moving `groupId`'s committed offsets on `topics` (each with its partitions, or nil
    /// for all of them; nil `topics`: every topic the group has committed on) by `strategy`.
    /// Commits nothing: `commitOffsets` does, with the plan's `offsetsToCommit`.
    public func planOffsetReset(of groupId: String, topics: [(topic: String, partitions: [Int32]?)]?,
                                strategy: OffsetResetStrategy) async throws(ClientError) -> OffsetResetPlan {
        let coordinator = try await coordinator(ofGroup: groupId)
        let group = try await describeGroups([groupId], on: coordinator).first { $0.groupId == groupId }
        if let group, group.errorCode != .none {
            throw ClientError(broker: coordinator.address, .brokerError(api: .describeGroups, group.errorCode, message: nil))
        }
        let committed = try await committedOffsets(of: groupId, at: coordinator)
        if committed.errorCode != .none {
            throw ClientError(broker: coordinator.address, .brokerError(api: .offsetFetch, committed.errorCode, message: nil))
        }
        var plan = OffsetResetPlan(groupId: groupId, coordinator: coordinator.address, state: group?.groupState ?? "Dead",
                                   memberCount: group?.members.count ?? 0, entries: [], unknownTopics: [])
        let partitions: [TopicPartition]
        if let topics {
            let resolved = try await resolve(topics)
            partitions = resolved.partitions
            plan.unknownTopics = resolved.unknownTopics
        } else {
            partitions = Set(committed.offsets.keys).sorted()
        }
        guard !partitions.isEmpty else { return plan }
        let starts = try await logOffsets(of: partitions, at: ListOffsetsRequest.earliestTimestamp)
        let ends = try await logOffsets(of: partitions, at: ListOffsetsRequest.latestTimestamp)
        var forTime: [TopicPartition: Result<Int64, ErrorCode>] = [:]
        if case let .datetime(milliseconds) = strategy { forTime = try await logOffsets(of: partitions, at: milliseconds) }
        for partition in partitions {
            let old = committed.offsets[partition]
            switch (starts[partition], ends[partition], forTime[partition]) {
            case let (.failure(code)?, _, _), let (_, .failure(code)?, _), let (_, _, .failure(code)?):
                plan.entries.append(.init(partition: partition, oldOffset: old, newOffset: nil, errorCode: code))
            case let (.success(start)?, .success(end)?, time):
                // −1 from a time lookup: no record at or after it.
                let timeOffset = (try? time?.get()).flatMap { $0 >= 0 ? $0 : nil }
                let target = strategy.target(committed: old, logStart: start, logEnd: max(start, end), offsetForTime: timeOffset)
                plan.entries.append(.init(partition: partition, oldOffset: old, newOffset: target))
            default:
                plan.entries.append(.init(partition: partition, oldOffset: old, newOffset: nil, errorCode: .unknownServerError))
            }
        }
        return plan
    }

    /// The partitions named: each topic's own list, or all of its partitions from Metadata;
    /// topics Metadata does not know are returned apart.
    private func resolve(_ topics: [(topic: String, partitions: [Int32]?)]) async throws(ClientError) -> (partitions: [TopicPartition], unknownTopics: [String]) {
        let metadata = try await metadata(topics: Array(Set(topics.map(\.topic))).sorted())
        var known: [String: [Int32]] = [:]
        for topic in metadata.topics where topic.errorCode == .none {
            if let name = topic.name { known[name] = topic.partitions.map(\.partitionIndex).sorted() }
        }
        var partitions = Set<TopicPartition>()
        var unknown: [String] = []
        for (topic, wanted) in topics {
            guard let all = known[topic] else {
                if !unknown.contains(topic) { unknown.append(topic) }
                continue
            }
            // A partition the topic lacks is kept: ListOffsets reports it UNKNOWN_TOPIC_OR_PARTITION.
            for partition in wanted ?? all { partitions.insert(TopicPartition(topic, partition)) }
        }
        return (partitions.sorted(), unknown)
    }
}
