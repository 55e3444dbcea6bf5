import PetrelCoordinator
import PetrelProtocol

/// JoinGroup (key 11), v0–7: the group coordinator's join; v4 and later get the KIP-394
/// MEMBER_ID_REQUIRED round trip for a new member.
struct JoinGroupHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...7 }
    var respondsOnly: Bool { false }

    func handle(_ request: JoinGroupRequest, context: RequestContext) async -> HandlerResult<JoinGroupResponse> {
        let result = await groups.join(JoinGroupParameters(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
            clientId: context.clientId ?? "", clientHost: context.clientHost,
            sessionTimeoutMs: request.sessionTimeoutMs,
            // v0 has no rebalance timeout: Kafka uses the session timeout.
            rebalanceTimeoutMs: context.apiVersion >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
            protocolType: request.protocolType, protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            requiresKnownMemberId: context.apiVersion >= 4))
        // Before v7 the protocol name is not nullable.
        let protocolName = result.protocolName ?? (context.apiVersion >= 7 ? nil : "")
        return .respond(JoinGroupResponse(errorCode: result.errorCode, generationId: result.generationId, protocolType: result.protocolType,
                                          protocolName: protocolName, leader: result.leaderId, memberId: result.memberId,
                                          members: result.members.map {
                                              JoinGroupResponse.JoinGroupResponseMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata)
                                          }))
    }
}
