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
    /// The group is Dead while the tombstones are written, so no join or commit is acknowledged
    /// that they would undo.
    public func deleteGroups(_ groupIds: [String]) async -> [ErrorCode] {
        var results: [ErrorCode] = []
        for groupId in groupIds {
            let prepared: Result<GroupTombstones, ErrorCode> = state.withLock { state in
                if let error = servingError(groupId, in: state) { return .failure(error) }
                guard let group = state.groups[groupId], group.state != .dead else { return .failure(.groupIdNotFound) }
                guard group.state == .empty else { return .failure(.nonEmptyGroup) }
                let offsets = group.offsets.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                return .success(prepareTombstones(groupId, offsets: offsets, deletingGroup: true, state: &state))
            }
            switch prepared {
            case let .failure(error):
                results.append(error)
            case let .success(tombstones):
                switch await write(tombstones) {
                case .success: results.append(.none)
                case let .failure(error): results.append(error)
                }
            }
        }
        return results
    }
}
