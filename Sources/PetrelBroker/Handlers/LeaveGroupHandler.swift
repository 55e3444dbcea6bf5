import PetrelCoordinator
import PetrelProtocol

/// LeaveGroup (key 13), v0–4: one member before v3, a batch of members (by member or instance
/// id) from v3.
struct LeaveGroupHandler: RequestHandler {
    let groups: GroupCoordinator
    var versions: ClosedRange<Int16> { 0...4 }
    var respondsOnly: Bool { false }

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async -> HandlerResult<LeaveGroupResponse> {
        let leaving = context.apiVersion >= 3
            ? request.members.map { LeavingMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
            : [LeavingMember(memberId: request.memberId, groupInstanceId: nil)]
        let result = groups.leave(groupId: request.groupId, members: leaving)
        guard context.apiVersion >= 3 else {
            // One member: its error is the response's.
            return .respond(LeaveGroupResponse(errorCode: result.errorCode == .none ? result.members.first ?? .none : result.errorCode))
        }
        return .respond(LeaveGroupResponse(errorCode: result.errorCode, members: zip(leaving, result.members).map {
            LeaveGroupResponse.MemberResponse(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: $1)
        }))
    }
}
