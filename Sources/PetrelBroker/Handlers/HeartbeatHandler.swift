import PetrelCoordinator
import PetrelProtocol

/// Heartbeat (key 12), v0–4: keeps a member's session; REBALANCE_IN_PROGRESS asks it to rejoin.
struct HeartbeatHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...4 }
    // It moves the member's session deadline.
    var respondsOnly: Bool { false }

    func handle(_ request: HeartbeatRequest, context: RequestContext) async -> HandlerResult<HeartbeatResponse> {
        .respond(HeartbeatResponse(errorCode: groups.heartbeat(groupId: request.groupId, generationId: request.generationId,
                                                               memberId: request.memberId, groupInstanceId: request.groupInstanceId)))
    }
}
