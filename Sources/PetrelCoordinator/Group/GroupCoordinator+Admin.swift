public import PetrelProtocol
import PetrelStorage

extension GroupCoordinator {
    /// ListGroups: every group this coordinator serves, optionally only those in `states`.
    public func listGroups(states: Set<GroupState>? = nil) -> [GroupListing] {
        state.withLock { state in
            state.groups.values
                .filter { state.partitions[partition(for: $0.groupId)] == .loaded && $0.state != .dead }
                .filter { states?.contains($0.state) ?? true }
                .map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType ?? "", state: $0.state) }
                .sorted { $0.groupId < $1.groupId }
        }
    }

    /// DescribeGroups: a group unknown here is described as Dead with no members, as Kafka does.
    public func describeGroups(_ groupIds: [String]) -> [GroupDescription] {
        state.withLock { state in
            groupIds.map { groupId in
                if let error = servingError(groupId, in: state) {
                    return GroupDescription(errorCode: error, groupId: groupId, state: .dead, protocolType: "", protocolName: "", members: [])
                }
                guard let group = state.groups[groupId] else {
                    return GroupDescription(errorCode: .none, groupId: groupId, state: .dead, protocolType: "", protocolName: "", members: [])
                }
                let members = group.memberOrder.compactMap { id in
                    group.members[id].map { member in
                        GroupDescription.Member(memberId: id, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                                                clientHost: member.clientHost, metadata: member.metadata(for: group.protocolName),
                                                // Kafka leaves assignments out until the group is stable.
                                                assignment: group.state == .stable ? member.assignment : [])
                    }
                }
                return GroupDescription(errorCode: .none, groupId: groupId, state: group.state, protocolType: group.protocolType ?? "",
                                        protocolName: group.state == .stable ? group.protocolName ?? "" : "", members: members)
            }
        }
    }

    /// DeleteGroups: an empty group's offsets and metadata are tombstoned (acknowledged before
    /// the answer); a group with members is NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
    public func deleteGroups(_ groupIds: [String]) async -> [ErrorCode] {
        var results: [ErrorCode] = []
        for groupId in groupIds {
            let prepared: Result<(TopicPartition, [UInt8]), ErrorCode> = state.withLock { state in
                if let error = servingError(groupId, in: state) { return .failure(error) }
                guard let group = state.groups[groupId], group.state != .dead else { return .failure(.groupIdNotFound) }
                guard group.state == .empty else { return .failure(.nonEmptyGroup) }
                let records = group.offsets.keys.map { OffsetsTopicRecords.offsetTombstone(group: groupId, partition: $0) }
                    + [OffsetsTopicRecords.groupTombstone(groupId)]
                do {
                    return .success((offsetsPartition(of: groupId), try OffsetsTopicRecords.batch(records, timestampMs: nowMs)))
                } catch {
                    preconditionFailure("group tombstones did not encode: \(error)")
                }
            }
            switch prepared {
            case let .failure(error):
                results.append(error)
            case let .success((partition, records)):
                do throws(PartitionWriteError) {
                    _ = try await writer.append(records, to: partition)
                    state.withLock { state in
                        // Deleted only if nobody joined meanwhile (their join recreated it).
                        if state.groups[groupId]?.state == .empty { state.groups[groupId] = nil }
                    }
                    results.append(.none)
                } catch {
                    results.append(Self.coordinatorError(for: error))
                }
            }
        }
        return results
    }
}
