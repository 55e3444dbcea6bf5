import Foundation
import PetrelProtocol

extension GroupCoordinator {
    /// JoinGroup: returns when the rebalance the join takes part in completes (or at once, for
    /// MEMBER_ID_REQUIRED, errors, and rejoins that change nothing).
    public func join(_ request: JoinGroupParameters) async -> JoinGroupResult {
        guard (config.minSessionTimeoutMs...config.maxSessionTimeoutMs).contains(request.sessionTimeoutMs) else {
            return JoinGroupResult(errorCode: .invalidSessionTimeout, memberId: request.memberId)
        }
        return await withCheckedContinuation { waiter in
            update { state, effects in
                if let immediate = join(request, waiter: waiter, state: &state, effects: &effects) {
                    waiter.resume(returning: immediate)
                }
            }
        }
    }

    /// Parks `waiter` in the group or returns the answer to give now.
    private func join(_ request: JoinGroupParameters, waiter: CheckedContinuation<JoinGroupResult, Never>,
                      state: inout State, effects: inout GroupEffects) -> JoinGroupResult? {
        if let error = servingError(request.groupId, in: state) { return JoinGroupResult(errorCode: error, memberId: request.memberId) }
        if state.groups[request.groupId] == nil {
            guard request.memberId.isEmpty else { return JoinGroupResult(errorCode: .unknownMemberId, memberId: request.memberId) }
            state.groups[request.groupId] = ClassicGroup(groupId: request.groupId, nowMs: nowMs)
        }
        var group = state.groups[request.groupId]!
        defer { state.groups[request.groupId] = group }
        guard group.state != .dead else { return JoinGroupResult(errorCode: .coordinatorNotAvailable, memberId: request.memberId) }
        guard group.supports(protocolType: request.protocolType, protocols: request.protocols) else {
            return JoinGroupResult(errorCode: .inconsistentGroupProtocol, memberId: request.memberId)
        }
        if request.memberId.isEmpty || group.pendingMembers.contains(request.memberId) {
            return joinNewMember(request, waiter: waiter, group: &group, effects: &effects)
        }
        return joinKnownMember(request, waiter: waiter, group: &group, effects: &effects)
    }

    private func joinNewMember(_ request: JoinGroupParameters, waiter: CheckedContinuation<JoinGroupResult, Never>,
                               group: inout ClassicGroup, effects: inout GroupEffects) -> JoinGroupResult? {
        let isPending = group.pendingMembers.contains(request.memberId)
        if !isPending, group.members.count + group.pendingMembers.count >= config.maxGroupSize {
            return JoinGroupResult(errorCode: .groupMaxSizeReached, memberId: request.memberId)
        }
        if let instance = request.groupInstanceId {
            let memberId = instance + "-" + UUID().uuidString.lowercased()
            if let existing = group.memberId(ofInstance: instance) {
                return replaceStaticMember(existing, with: memberId, request, waiter: waiter, group: &group, effects: &effects)
            }
            addMember(memberId, request, waiter: waiter, group: &group, effects: &effects)
            return nil
        }
        if isPending {
            group.pendingMembers.remove(request.memberId)
            addMember(request.memberId, request, waiter: waiter, group: &group, effects: &effects)
            return nil
        }
        let memberId = request.clientId + "-" + UUID().uuidString.lowercased()
        if request.requiresKnownMemberId {
            // KIP-394: the member learns its id first and joins again with it; until then it is
            // pending, dropped after a session timeout if it never comes back.
            group.pendingMembers.insert(memberId)
            let groupId = group.groupId
            effects.timers.append((Int64(request.sessionTimeoutMs), { [weak self] in self?.pendingMemberExpired(groupId, memberId) }))
            return JoinGroupResult(errorCode: .memberIdRequired, memberId: memberId)
        }
        addMember(memberId, request, waiter: waiter, group: &group, effects: &effects)
        return nil
    }

    private func joinKnownMember(_ request: JoinGroupParameters, waiter: CheckedContinuation<JoinGroupResult, Never>,
                                 group: inout ClassicGroup, effects: inout GroupEffects) -> JoinGroupResult? {
        guard var member = group.members[request.memberId] else { return JoinGroupResult(errorCode: .unknownMemberId, memberId: request.memberId) }
        if let fenced = fencingError(request.groupInstanceId, memberId: request.memberId, in: group) {
            return JoinGroupResult(errorCode: fenced, memberId: request.memberId)
        }
        member.sessionDeadlineMs = nowMs + Int64(member.sessionTimeoutMs)
        let unchanged = member.hasSameProtocols(request.protocols)
        switch group.state {
        case .preparingRebalance:
            break
        case .completingRebalance where unchanged, .stable where unchanged && group.leaderId != request.memberId:
            // Nothing changes: the member gets this generation again.
            group.members[request.memberId] = member
            return currentGeneration(of: group, for: request.memberId)
        case .completingRebalance, .stable:
            break
        case .empty, .dead:
            return JoinGroupResult(errorCode: .unknownMemberId, memberId: request.memberId)
        }
        if let previous = member.joinWaiter {
            // A second join from the same member replaces the first, which is told to rejoin.
            effects.joins.append((previous, JoinGroupResult(errorCode: .rebalanceInProgress, memberId: member.memberId)))
        }
        member.protocols = request.protocols
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.joinWaiter = waiter
        group.members[request.memberId] = member
        if group.state != .preparingRebalance { prepareRebalance(&group, effects: &effects) }
        maybeCompleteJoin(&group, effects: &effects)
        return nil
    }

    private func addMember(_ memberId: String, _ request: JoinGroupParameters, waiter: CheckedContinuation<JoinGroupResult, Never>,
                           group: inout ClassicGroup, effects: inout GroupEffects) {
        var member = GroupMember(memberId, joining: request, nowMs: nowMs)
        member.joinWaiter = waiter
        group.add(member)
        armSessionTimer(group.groupId, memberId, afterMs: Int64(request.sessionTimeoutMs), effects: &effects)
        group.newMemberAdded = true
        if group.state != .preparingRebalance { prepareRebalance(&group, effects: &effects) }
        maybeCompleteJoin(&group, effects: &effects)
    }

    /// A static member restarted (same instance id, new member id): it takes the old member's
    /// place. In a stable group with the same protocols it gets the current generation and its
    /// assignment back without a rebalance (KIP-345); otherwise the group rebalances.
    private func replaceStaticMember(_ oldId: String, with newId: String, _ request: JoinGroupParameters,
                                     waiter: CheckedContinuation<JoinGroupResult, Never>,
                                     group: inout ClassicGroup, effects: inout GroupEffects) -> JoinGroupResult? {
        guard var member = group.remove(oldId) else { return JoinGroupResult(errorCode: .unknownMemberId) }
        effects.fail(member, with: .fencedInstanceId)
        let wasLeader = group.leaderId == nil || group.leaderId == oldId
        let unchanged = member.hasSameProtocols(request.protocols)
        var replacement = GroupMember(newId, joining: request, nowMs: nowMs)
        replacement.assignment = member.assignment
        member = replacement
        group.add(member)
        if wasLeader { group.leaderId = newId }
        armSessionTimer(group.groupId, newId, afterMs: Int64(request.sessionTimeoutMs), effects: &effects)
        if group.state == .stable && unchanged {
            effects.persists.append(group.groupId)
            return currentGeneration(of: group, for: newId)
        }
        group.members[newId]?.joinWaiter = waiter
        if group.state != .preparingRebalance { prepareRebalance(&group, effects: &effects) }
        maybeCompleteJoin(&group, effects: &effects)
        return nil
    }

    /// FENCED_INSTANCE_ID when the request names an instance that maps to another member.
    func fencingError(_ instance: String?, memberId: String, in group: ClassicGroup) -> ErrorCode? {
        guard let instance, let current = group.staticMembers[instance], current != memberId else { return nil }
        return .fencedInstanceId
    }

    /// The answer for a member of the current generation (the leader also gets the members).
    func currentGeneration(of group: ClassicGroup, for memberId: String) -> JoinGroupResult {
        var result = JoinGroupResult(errorCode: .none, memberId: memberId)
        result.generationId = group.generationId
        result.protocolType = group.protocolType
        result.protocolName = group.protocolName
        result.leaderId = group.leaderId ?? ""
        if memberId == group.leaderId {
            result.members = group.memberOrder.compactMap { id in
                group.members[id].map { JoinedMember(memberId: id, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: group.protocolName)) }
            }
        }
        return result
    }

    /// Starts a rebalance: parked syncs are told to rejoin; the first rebalance of an empty
    /// group waits `group.initial.rebalance.delay.ms` for more members, any other at most the
    /// rebalance timeout for every member to rejoin.
    func prepareRebalance(_ group: inout ClassicGroup, effects: inout GroupEffects) {
        if group.state == .completingRebalance {
            for id in group.memberOrder {
                group.members[id]?.assignment = []
                if var member = group.members[id] {
                    effects.answer(&member, sync: SyncGroupResult(errorCode: .rebalanceInProgress))
                    group.members[id] = member
                }
            }
            group.pendingSync = []
        }
        let wasEmpty = group.state == .empty
        group.transition(to: .preparingRebalance, nowMs: nowMs)
        group.timerToken &+= 1
        let token = group.timerToken, groupId = group.groupId
        let rebalanceTimeout = max(group.rebalanceTimeoutMs, 0)
        if wasEmpty {
            let delay = min(Int64(config.initialRebalanceDelayMs), rebalanceTimeout)
            group.newMemberAdded = false
            group.inInitialDelay = true
            effects.timers.append((delay, { [weak self] in self?.initialDelayEnded(groupId, token: token, remainingMs: rebalanceTimeout - delay) }))
        } else {
            effects.timers.append((rebalanceTimeout, { [weak self] in self?.rebalanceTimedOut(groupId, token: token) }))
        }
    }

    func maybeCompleteJoin(_ group: inout ClassicGroup, effects: inout GroupEffects) {
        guard group.state == .preparingRebalance, !group.inInitialDelay, group.allMembersJoined else { return }
        completeJoin(&group, effects: &effects)
    }

    private func initialDelayEnded(_ groupId: String, token: UInt64, remainingMs: Int64) {
        update { state, effects in
            guard var group = state.groups[groupId], group.timerToken == token, group.state == .preparingRebalance else { return }
            defer { state.groups[groupId] = group }
            if group.newMemberAdded && remainingMs > 0 {
                group.newMemberAdded = false
                let delay = min(Int64(config.initialRebalanceDelayMs), remainingMs)
                effects.timers.append((delay, { [weak self] in self?.initialDelayEnded(groupId, token: token, remainingMs: remainingMs - delay) }))
                return
            }
            group.inInitialDelay = false
            completeJoin(&group, effects: &effects)
        }
    }

    private func rebalanceTimedOut(_ groupId: String, token: UInt64) {
        update { state, effects in
            guard var group = state.groups[groupId], group.timerToken == token, group.state == .preparingRebalance else { return }
            completeJoin(&group, effects: &effects)
            state.groups[groupId] = group
        }
    }

    /// Ends the join phase: members that did not rejoin are dropped, the generation advances,
    /// a protocol is chosen, and every parked join is answered (the leader with the members).
    func completeJoin(_ group: inout ClassicGroup, effects: inout GroupEffects) {
        group.timerToken &+= 1
        group.inInitialDelay = false
        for id in group.memberOrder where group.members[id]?.joinWaiter == nil {
            if let gone = group.remove(id) { effects.fail(gone, with: .unknownMemberId) }
        }
        group.generationId &+= 1
        effects.completedRebalances += 1
        if group.members.isEmpty {
            group.protocolName = nil
            group.leaderId = nil
            group.transition(to: .empty, nowMs: nowMs)
            effects.persists.append(group.groupId)
            return
        }
        group.protocolName = group.selectProtocol()
        if group.leaderId.map({ group.members[$0] == nil }) ?? true { group.leaderId = group.memberOrder.first }
        group.transition(to: .completingRebalance, nowMs: nowMs)
        group.pendingSync = Set(group.members.keys)
        for id in group.memberOrder {
            guard var member = group.members[id] else { continue }
            member.sessionDeadlineMs = nowMs + Int64(member.sessionTimeoutMs)
            effects.answer(&member, join: currentGeneration(of: group, for: id))
            group.members[id] = member
        }
        let token = group.timerToken, groupId = group.groupId, generation = group.generationId
        effects.timers.append((group.rebalanceTimeoutMs, { [weak self] in self?.syncTimedOut(groupId, token: token, generation: generation) }))
    }

    /// Members that did not send their SyncGroup within the rebalance timeout are dropped and
    /// the group rebalances without them.
    private func syncTimedOut(_ groupId: String, token: UInt64, generation: Int32) {
        update { state, effects in
            guard var group = state.groups[groupId], group.timerToken == token, group.generationId == generation,
                  group.state == .completingRebalance, !group.pendingSync.isEmpty else { return }
            for id in group.pendingSync {
                if let gone = group.remove(id) { effects.fail(gone, with: .unknownMemberId) }
            }
            prepareRebalance(&group, effects: &effects)
            maybeCompleteJoin(&group, effects: &effects)
            state.groups[groupId] = group
        }
    }

    private func pendingMemberExpired(_ groupId: String, _ memberId: String) {
        update { state, effects in
            guard var group = state.groups[groupId], group.pendingMembers.remove(memberId) != nil else { return }
            maybeCompleteJoin(&group, effects: &effects)
            state.groups[groupId] = group
        }
    }
}
