public import PetrelProtocol

extension KafkaCluster {
    /// ListGroups on every broker Metadata names; a broker that fails is reported in `failures`
    /// and the others still listed. `states` (Kafka's names) filters: by the broker from
    /// ListGroups v4, here for older brokers, whose groups' states come from DescribeGroups.
    public func listGroups(states: [String] = []) async throws(ClientError) -> (groups: [GroupListing], failures: [ClientError]) {
        var groups: [GroupListing] = []
        var failures: [ClientError] = []
        for address in try await brokers() {
            do throws(ClientError) {
                groups += try await listGroups(on: try await connection(to: address), states: states)
            } catch {
                failures.append(error)
            }
        }
        return (groups.sorted { $0.groupId < $1.groupId }, failures)
    }

    private func listGroups(on connection: KafkaConnection, states: [String]) async throws(ClientError) -> [GroupListing] {
        let version = try connection.version(of: .listGroups)
        let request = ListGroupsRequest(statesFilter: version >= 4 ? states : [])
        let response = try await connection.send(request, version: version, as: ListGroupsResponse.self)
        guard response.errorCode == .none else {
            throw ClientError(broker: connection.address, .brokerError(api: .listGroups, response.errorCode, message: nil))
        }
        var listed = response.groups.map {
            GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: $0.groupState, coordinator: connection.address)
        }
        if version < 4 && !listed.isEmpty {
            let described = try await describeGroups(listed.map(\.groupId), on: connection)
            let stateById = Dictionary(described.map { ($0.groupId, $0.groupState) }, uniquingKeysWith: { first, _ in first })
            listed = listed.map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: stateById[$0.groupId] ?? "", coordinator: $0.coordinator) }
            if !states.isEmpty {
                let wanted = Set(states.map { $0.lowercased() })
                listed = listed.filter { wanted.contains($0.state.lowercased()) }
            }
        }
        return listed
    }

    /// DescribeGroups for `groupIds` on `connection`, which must be their coordinator; each
    /// group's own error is in its `errorCode`.
    public func describeGroups(_ groupIds: [String], on connection: KafkaConnection) async throws(ClientError) -> [DescribeGroupsResponse.DescribedGroup] {
        let response = try await connection.send(DescribeGroupsRequest(groups: groupIds), as: DescribeGroupsResponse.self)
        return response.groups
    }

    /// DeleteGroups at the group's coordinator: the broker's answer (NONE when deleted;
    /// NON_EMPTY_GROUP while it has members; GROUP_ID_NOT_FOUND).
    public func deleteGroup(_ groupId: String) async throws(ClientError) -> ErrorCode {
        let coordinator = try await coordinator(ofGroup: groupId)
        let response = try await coordinator.send(DeleteGroupsRequest(groupsNames: [groupId]), as: DeleteGroupsResponse.self)
        return response.results.first { $0.groupId == groupId }?.errorCode ?? .unknownServerError
    }
}
