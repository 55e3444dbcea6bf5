import PetrelCoordinator
import PetrelProtocol

/// SyncGroup (key 14), v0–5: the leader hands in the assignment, every member gets its own.
struct SyncGroupHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...5 }
    var respondsOnly: Bool { false }

    func handle(_ request: SyncGroupRequest, context: RequestContext) async -> HandlerResult<SyncGroupResponse> {
        let result = await groups.sync(SyncGroupParameters(
            groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
            groupInstanceId: request.groupInstanceId, protocolType: request.protocolType, protocolName: request.protocolName,
            assignments: request.assignments.map { ($0.memberId, $0.assignment) }))
        return .respond(SyncGroupResponse(errorCode: result.errorCode, protocolType: result.protocolType, protocolName: result.protocolName,
                                          assignment: result.assignment))
    }
}
