import PetrelCoordinator
import PetrelProtocol
import PetrelStorage

/// ListGroups (key 16), v0–4: v4 filters by state.
struct ListGroupsHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...4 }
    var respondsOnly: Bool { true }

    func handle(_ request: ListGroupsRequest, context: RequestContext) async -> HandlerResult<ListGroupsResponse> {
        // State names are matched as Kafka does, ignoring case.
        let states = request.statesFilter.isEmpty ? nil
            : Set(GroupState.allCases.filter { state in request.statesFilter.contains { $0.lowercased() == state.rawValue.lowercased() } })
        return .respond(ListGroupsResponse(groups: groups.listGroups(states: states).map {
            ListGroupsResponse.ListedGroup(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.state.rawValue, groupType: "classic")
        }))
    }
}

/// DescribeGroups (key 15), v0–5.
struct DescribeGroupsHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...5 }
    var respondsOnly: Bool { true }

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async -> HandlerResult<DescribeGroupsResponse> {
        .respond(DescribeGroupsResponse(groups: groups.describeGroups(request.groups).map { group in
            DescribeGroupsResponse.DescribedGroup(
                errorCode: group.errorCode, groupId: group.groupId, groupState: group.state.rawValue, protocolType: group.protocolType,
                protocolData: group.protocolName,
                members: group.members.map {
                    DescribeGroupsResponse.DescribedGroupMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                                                                clientHost: $0.clientHost, memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                })
        }))
    }
}

/// DeleteGroups (key 42), v0–2: only empty groups are deleted.
struct DeleteGroupsHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...2 }
    var respondsOnly: Bool { false }

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async -> HandlerResult<DeleteGroupsResponse> {
        let results = await groups.deleteGroups(request.groupsNames)
        return .respond(DeleteGroupsResponse(results: zip(request.groupsNames, results).map {
            DeleteGroupsResponse.DeletableGroupResult(groupId: $0, errorCode: $1)
        }))
    }
}

/// OffsetDelete (key 47), v0: removes a group's committed offsets of the partitions named; a
/// partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION, as in Kafka.
struct OffsetDeleteHandler: RequestHandler {
    let groups: GroupCoordinator
    let topics: TopicRegistry
    var versions: ClosedRange<Int16> { 0...0 }
    var respondsOnly: Bool { false }

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async -> HandlerResult<OffsetDeleteResponse> {
        var known: [TopicPartition] = []
        var errors: [TopicPartition: ErrorCode] = [:]
        for topic in request.topics {
            let partitionCount = topics.info(topic.name)?.partitions ?? 0
            for partition in topic.partitions {
                let target = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if (0..<partitionCount).contains(partition.partitionIndex) { known.append(target) } else { errors[target] = .unknownTopicOrPartition }
            }
        }
        switch await groups.deleteOffsets(groupId: request.groupId, partitions: known) {
        case let .failure(error):
            return .respond(OffsetDeleteResponse(errorCode: error))
        case let .success(results):
            for (partition, error) in zip(known, results) { errors[partition] = error }
        }
        return .respond(OffsetDeleteResponse(topics: request.topics.map { topic in
            OffsetDeleteResponse.OffsetDeleteResponseTopic(name: topic.name, partitions: topic.partitions.map {
                OffsetDeleteResponse.OffsetDeleteResponsePartition(
                    partitionIndex: $0.partitionIndex, errorCode: errors[TopicPartition(topic: topic.name, partition: $0.partitionIndex)] ?? .none)
            })
        }))
    }
}
