public import PetrelProtocol
public import PetrelStorage

extension GroupCoordinator {
    /// OffsetDelete: removes committed offsets (tombstones, acknowledged before the answer), by
    /// Kafka's rules (`GroupCoordinator.handleDeleteOffsets`): any of an Empty group's; of a
    /// consumer group with members, those of topics no member subscribes to
    /// (GROUP_SUBSCRIBED_TO_TOPIC for the others); none of another kind of group with members
    /// (NON_EMPTY_GROUP). An Empty group left with no offsets is deleted with them.
    ///
    /// - Returns: the group's error (GROUP_ID_NOT_FOUND, NOT_COORDINATOR, …), or one error per
    ///   partition asked, in order.
    public func deleteOffsets(groupId: String, partitions: [TopicPartition]) async -> Result<[ErrorCode], ErrorCode> {
        let prepared: Result<([ErrorCode], GroupTombstones?), ErrorCode> = state.withLock { state in
            if let error = servingError(groupId, in: state) { return .failure(error) }
            guard let group = state.groups[groupId], group.state != .dead else { return .failure(.groupIdNotFound) }
            var errors = partitions.map { _ in ErrorCode.none }
            if group.state != .empty {
                guard group.protocolType == ConsumerSubscription.protocolType else { return .failure(.nonEmptyGroup) }
                let subscribed = subscribedTopics(of: group)
                for (index, partition) in partitions.enumerated() where subscribed?.contains(partition.topic) ?? true {
                    errors[index] = .groupSubscribedToTopic
                }
            }
            let deleting = Set(zip(partitions, errors).filter { $0.1 == .none }.map(\.0))
            let tombstoned = deleting.filter { group.offsets[$0] != nil }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            guard !tombstoned.isEmpty else { return .success((errors, nil)) }
            let deletingGroup = group.state == .empty && tombstoned.count == group.offsets.count
            return .success((errors, prepareTombstones(groupId, offsets: tombstoned, deletingGroup: deletingGroup, holdingCommits: false, state: &state)))
        }
        switch prepared {
        case let .failure(error):
            return .failure(error)
        case let .success((errors, nil)):
            return .success(errors)
        case let .success((errors, tombstones?)):
            switch await write(tombstones) {
            case .success: return .success(errors)
            case let .failure(error): return .success(errors.map { $0 == .none ? error : $0 })
            }
        }
    }

    /// The topics the members of a consumer group subscribe to, from their subscriptions in the
    /// chosen protocol; nil when one does not decode — every topic then counts as subscribed, as
    /// in Kafka, so that no offset in use is deleted.
    func subscribedTopics(of group: ClassicGroup) -> Set<String>? {
        var topics: Set<String> = []
        for member in group.members.values {
            guard let subscribed = ConsumerSubscription.topics(member.metadata(for: group.protocolName)) else { return nil }
            topics.formUnion(subscribed)
        }
        return topics
    }
}
