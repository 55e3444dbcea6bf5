public import PetrelProtocol
import PetrelStorage

extension GroupCoordinator {
    /// SyncGroup: the leader's call stores every member's assignment (one group metadata
    /// record, acknowledged before anyone is answered); a follower's waits for it. In a stable
    /// group each member gets its assignment at once.
    public func sync(_ request: SyncGroupParameters) async -> SyncGroupResult {
        await withCheckedContinuation { waiter in
            let write: AssignmentWrite? = update { state, effects in
                switch sync(request, waiter: waiter, state: &state) {
                case let .answer(result):
                    waiter.resume(returning: result)
                    return nil
                case .parked:
                    return nil
                case let .store(write):
                    return write
                }
            }
            if let write { Task { await store(write) } }
        }
    }

    private enum SyncOutcome {
        case answer(SyncGroupResult)
        case parked
        case store(AssignmentWrite)
    }

    /// The leader's assignment on its way to the offsets partition.
    struct AssignmentWrite: Sendable {
        let groupId: String
        let generationId: Int32
        let assignments: [String: [UInt8]]
        let write: MetadataWrite
    }

    private func sync(_ request: SyncGroupParameters, waiter: CheckedContinuation<SyncGroupResult, Never>, state: inout State) -> SyncOutcome {
        if let error = servingError(request.groupId, in: state) { return .answer(SyncGroupResult(errorCode: error)) }
        guard var group = state.groups[request.groupId] else { return .answer(SyncGroupResult(errorCode: .unknownMemberId)) }
        guard group.state != .dead else { return .answer(SyncGroupResult(errorCode: .coordinatorNotAvailable)) }
        guard var member = group.members[request.memberId] else { return .answer(SyncGroupResult(errorCode: .unknownMemberId)) }
        if let fenced = fencingError(request.groupInstanceId, memberId: request.memberId, in: group) { return .answer(SyncGroupResult(errorCode: fenced)) }
        guard request.generationId == group.generationId else { return .answer(SyncGroupResult(errorCode: .illegalGeneration)) }
        if let type = request.protocolType, type != group.protocolType { return .answer(SyncGroupResult(errorCode: .inconsistentGroupProtocol)) }
        if let name = request.protocolName, name != group.protocolName { return .answer(SyncGroupResult(errorCode: .inconsistentGroupProtocol)) }
        switch group.state {
        case .empty, .dead:
            return .answer(SyncGroupResult(errorCode: .unknownMemberId))
        case .preparingRebalance:
            return .answer(SyncGroupResult(errorCode: .rebalanceInProgress))
        case .stable:
            member.sessionDeadlineMs = nowMs + Int64(member.sessionTimeoutMs)
            group.members[request.memberId] = member
            state.groups[request.groupId] = group
            return .answer(assignmentAnswer(member.assignment, in: group))
        case .completingRebalance:
            member.sessionDeadlineMs = nowMs + Int64(member.sessionTimeoutMs)
            if let previous = member.syncWaiter { previous.resume(returning: SyncGroupResult(errorCode: .rebalanceInProgress)) }
            member.syncWaiter = waiter
            group.members[request.memberId] = member
            group.pendingSync.remove(request.memberId)
            defer { state.groups[request.groupId] = group }
            guard request.memberId == group.leaderId, group.assignmentWriteGeneration != group.generationId else { return .parked }
            var assignments: [String: [UInt8]] = [:]
            for (memberId, assignment) in request.assignments where group.members[memberId] != nil { assignments[memberId] = assignment }
            for memberId in group.memberOrder where assignments[memberId] == nil { assignments[memberId] = [] }
            var stored = group
            for (memberId, assignment) in assignments { stored.members[memberId]?.assignment = assignment }
            do {
                let records = try OffsetsTopicRecords.batch([OffsetsTopicRecords.groupMetadata(stored)], timestampMs: nowMs)
                group.assignmentWriteGeneration = group.generationId
                return .store(AssignmentWrite(groupId: group.groupId, generationId: group.generationId, assignments: assignments,
                                              write: chainedMetadataWrite(records, group: group.groupId, state: &state)))
            } catch {
                preconditionFailure("a group metadata record did not encode: \(error)")
            }
        }
    }

    private func assignmentAnswer(_ assignment: [UInt8], in group: ClassicGroup) -> SyncGroupResult {
        var result = SyncGroupResult(errorCode: .none)
        result.protocolType = group.protocolType
        result.protocolName = group.protocolName
        result.assignment = assignment
        return result
    }

    /// Writes the leader's assignment, then (if the group is still in that generation's
    /// CompletingRebalance) makes it the group's, goes Stable and answers every parked sync. A
    /// failed write answers them with the error and rebalances.
    private func store(_ write: AssignmentWrite) async {
        var failure: ErrorCode?
        if case let .failure(error) = await write.write.value { failure = Self.coordinatorError(for: error) }
        update { state, effects in
            guard var group = state.groups[write.groupId] else { return }
            defer { state.groups[write.groupId] = group }
            if group.assignmentWriteGeneration == write.generationId { group.assignmentWriteGeneration = nil }
            // A group that moved on meanwhile answered this generation's syncs when it did.
            guard group.generationId == write.generationId, group.state == .completingRebalance else { return }
            if let failure {
                state.counters.failedWrites += 1
                for id in group.memberOrder {
                    guard var member = group.members[id] else { continue }
                    effects.answer(&member, sync: SyncGroupResult(errorCode: failure))
                    group.members[id] = member
                }
                prepareRebalance(&group, effects: &effects)
                return
            }
            for (memberId, assignment) in write.assignments { group.members[memberId]?.assignment = assignment }
            group.transition(to: .stable, nowMs: nowMs)
            for id in group.memberOrder {
                guard var member = group.members[id] else { continue }
                effects.answer(&member, sync: assignmentAnswer(member.assignment, in: group))
                group.members[id] = member
            }
        }
    }

    /// Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
    public func heartbeat(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?) -> ErrorCode {
        update { state, _ in
            if let error = servingError(groupId, in: state) { return error }
            guard var group = state.groups[groupId] else { return .unknownMemberId }
            guard group.state != .dead else { return .coordinatorNotAvailable }
            guard group.members[memberId] != nil else { return .unknownMemberId }
            if let fenced = fencingError(groupInstanceId, memberId: memberId, in: group) { return fenced }
            guard generationId == group.generationId else { return .illegalGeneration }
            switch group.state {
            case .empty, .dead:
                return .unknownMemberId
            case .preparingRebalance, .completingRebalance, .stable:
                let sessionTimeoutMs = Int64(group.members[memberId]!.sessionTimeoutMs)
                group.members[memberId]?.sessionDeadlineMs = nowMs + sessionTimeoutMs
                state.groups[groupId] = group
                return group.state == .preparingRebalance ? .rebalanceInProgress : .none
            }
        }
    }

    /// LeaveGroup: each member by id, or by instance id (a static member); the group
    /// rebalances without them. Returns the group's error, or each member's.
    public func leave(groupId: String, members leaving: [LeavingMember]) -> (errorCode: ErrorCode, members: [ErrorCode]) {
        update { state, effects in
            if let error = servingError(groupId, in: state) { return (error, []) }
            guard var group = state.groups[groupId] else { return (.unknownMemberId, leaving.map { _ in .unknownMemberId }) }
            guard group.state != .dead else { return (.coordinatorNotAvailable, []) }
            defer { state.groups[groupId] = group }
            var results: [ErrorCode] = []
            for leaver in leaving {
                var memberId = leaver.memberId
                if let instance = leaver.groupInstanceId {
                    guard let current = group.staticMembers[instance] else { results.append(.unknownMemberId); continue }
                    guard memberId.isEmpty || memberId == current else { results.append(.fencedInstanceId); continue }
                    memberId = current
                }
                if group.pendingMembers.remove(memberId) != nil {
                    results.append(.none)
                } else if let gone = group.remove(memberId) {
                    effects.fail(gone, with: .unknownMemberId)
                    results.append(.none)
                } else {
                    results.append(.unknownMemberId)
                }
            }
            if results.contains(.none) { membersLeft(&group, effects: &effects) }
            return (.none, results)
        }
    }

    /// After members are gone: a settled group rebalances; a rebalancing one may be complete.
    func membersLeft(_ group: inout ClassicGroup, effects: inout GroupEffects) {
        switch group.state {
        case .stable, .completingRebalance: prepareRebalance(&group, effects: &effects)
        case .preparingRebalance: break
        case .empty, .dead: return
        }
        maybeCompleteJoin(&group, effects: &effects)
    }

    /// One timer per member, armed when it joins: it drops the member once its session deadline
    /// passes without a heartbeat (a member parked in a join or sync is alive), and otherwise
    /// re-arms itself for the deadline — a heartbeat only moves the deadline.
    func armSessionTimer(_ groupId: String, _ memberId: String, afterMs delayMs: Int64, effects: inout GroupEffects) {
        effects.timers.append((delayMs, { [weak self] in self?.sessionTimerFired(groupId, memberId) }))
    }

    private func sessionTimerFired(_ groupId: String, _ memberId: String) {
        update { state, effects in
            guard var group = state.groups[groupId], var member = group.members[memberId] else { return }
            let now = nowMs
            if member.joinWaiter != nil || member.syncWaiter != nil {
                member.sessionDeadlineMs = now + Int64(member.sessionTimeoutMs)
                group.members[memberId] = member
            }
            if now < member.sessionDeadlineMs {
                state.groups[groupId] = group
                armSessionTimer(groupId, memberId, afterMs: member.sessionDeadlineMs - now, effects: &effects)
                return
            }
            state.counters.expiredMembers += 1
            if let gone = group.remove(memberId) { effects.fail(gone, with: .unknownMemberId) }
            membersLeft(&group, effects: &effects)
            state.groups[groupId] = group
        }
    }

    /// The error a coordinator answers for a failed write (Kafka's mapping in
    /// `GroupMetadataManager`/`CoordinatorRuntime`).
    static func coordinatorError(for error: PartitionWriteError) -> ErrorCode {
        switch error.kind {
        case .notLeader: .notCoordinator
        case .unknownPartition, .storage: .coordinatorNotAvailable
        case .invalidRecords: .invalidCommitOffsetSize
        }
    }

    func offsetsPartition(of groupId: String) -> TopicPartition {
        TopicPartition(topic: config.offsetsTopic, partition: partition(for: groupId))
    }
}
