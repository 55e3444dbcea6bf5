import PetrelProtocol
import PetrelStorage

/// One member of a classic group, as the coordinator keeps it.
struct GroupMember {
    let memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var rebalanceTimeoutMs: Int32
    var sessionTimeoutMs: Int32
    var protocolType: String
    var protocols: [GroupProtocol]
    var assignment: [UInt8] = []
    /// The member's JoinGroup parked until the rebalance completes.
    var joinWaiter: CheckedContinuation<JoinGroupResult, Never>?
    /// The member's SyncGroup parked until the leader's assignment is stored.
    var syncWaiter: CheckedContinuation<SyncGroupResult, Never>?
    /// When the member is dropped unless it heartbeats (or joins, syncs, commits) first.
    var sessionDeadlineMs: Int64

    func metadata(for protocolName: String?) -> [UInt8] {
        protocols.first { $0.name == protocolName }?.metadata ?? []
    }

    /// Whether `protocols` are the ones it joined with: a rejoin with the same ones in a stable
    /// group is answered without a rebalance.
    func hasSameProtocols(_ other: [GroupProtocol]) -> Bool { protocols == other }
}

extension GroupMember {
    /// A member as its JoinGroup describes it, its session starting now.
    init(_ memberId: String, joining request: JoinGroupParameters, nowMs: Int64) {
        self.init(memberId: memberId, groupInstanceId: request.groupInstanceId, clientId: request.clientId, clientHost: request.clientHost,
                  rebalanceTimeoutMs: request.rebalanceTimeoutMs, sessionTimeoutMs: request.sessionTimeoutMs,
                  protocolType: request.protocolType, protocols: request.protocols,
                  sessionDeadlineMs: nowMs + Int64(request.sessionTimeoutMs))
    }
}

/// A classic (pre-KIP-848) consumer group: membership, generation, the chosen protocol and the
/// committed offsets, with the transitions of Kafka's `ClassicGroup`.
struct ClassicGroup {
    let groupId: String
    var state: GroupState = .empty
    var generationId: Int32 = 0
    /// Empty for a group only ever used for offsets (commits from outside group management).
    var protocolType: String?
    var protocolName: String?
    var leaderId: String?
    /// Members in the order they joined (the leader's member list follows it).
    var memberOrder: [String] = []
    var members: [String: GroupMember] = [:]
    /// Members given an id with MEMBER_ID_REQUIRED that have not joined with it yet.
    var pendingMembers: Set<String> = []
    /// Static members: instance id → member id.
    var staticMembers: [String: String] = [:]
    /// Members whose SyncGroup the current generation still waits for.
    var pendingSync: Set<String> = []
    var offsets: [TopicPartition: CommittedOffset] = [:]
    var stateTimestampMs: Int64
    /// A member joined during the initial rebalance delay: the delay is extended.
    var newMemberAdded = false
    /// The first rebalance of an empty group is waiting out its initial delay: it completes
    /// then, not as soon as every member has joined.
    var inInitialDelay = false
    /// Identifies the pending rebalance or sync timer; a timer whose token is stale does nothing.
    var timerToken: UInt64 = 0
    /// The generation whose assignment a leader's SyncGroup is storing, if any. Per generation:
    /// a write of an older generation, still on its way when the group moved on, must not hold
    /// up the new leader's (it did, and the group never formed).
    var assignmentWriteGeneration: Int32?
    /// Tombstones of expired offsets are being written: commits wait (are refused, retriably).
    var expiryInFlight = false

    init(groupId: String, nowMs: Int64) {
        self.groupId = groupId
        stateTimestampMs = nowMs
    }

    var isEmpty: Bool { members.isEmpty && pendingMembers.isEmpty }

    mutating func transition(to next: GroupState, nowMs: Int64) {
        precondition(Self.validPrevious[next]!.contains(state), "group \(groupId): no transition from \(state) to \(next)")
        state = next
        stateTimestampMs = nowMs
    }

    /// Dead while the group's tombstone is written: every state may go there (Kafka's table),
    /// and the time it became empty is kept, for the offsets' expiry should the write fail.
    mutating func markDeleting() {
        precondition(state == .empty, "group \(groupId): deleted while \(state)")
        state = .dead
    }

    /// The tombstone's write failed: the group is as it was, Empty.
    mutating func undoDeath() {
        precondition(state == .dead, "group \(groupId): revived while \(state)")
        state = .empty
    }

    /// Kafka's table of valid previous states (`ClassicGroupState`).
    static let validPrevious: [GroupState: Set<GroupState>] = [
        .empty: [.preparingRebalance],
        .preparingRebalance: [.stable, .completingRebalance, .empty],
        .completingRebalance: [.preparingRebalance],
        .stable: [.completingRebalance],
        .dead: Set(GroupState.allCases),
    ]

    mutating func add(_ member: GroupMember) {
        if members[member.memberId] == nil { memberOrder.append(member.memberId) }
        members[member.memberId] = member
        if let instance = member.groupInstanceId { staticMembers[instance] = member.memberId }
        if leaderId == nil { leaderId = member.memberId }
        if protocolType == nil { protocolType = member.protocolType }
    }

    /// Removes a member and returns it (its waiters are the caller's to answer).
    mutating func remove(_ memberId: String) -> GroupMember? {
        guard let member = members.removeValue(forKey: memberId) else { return nil }
        memberOrder.removeAll { $0 == memberId }
        pendingSync.remove(memberId)
        if let instance = member.groupInstanceId, staticMembers[instance] == memberId { staticMembers.removeValue(forKey: instance) }
        if leaderId == memberId { leaderId = memberOrder.first }
        return member
    }

    /// The names every member supports: a joining member must share one.
    var candidateProtocols: Set<String>? {
        var candidates: Set<String>?
        for member in members.values {
            let names = Set(member.protocols.map(\.name))
            candidates = candidates.map { $0.intersection(names) } ?? names
        }
        return candidates
    }

    /// Whether a member with these protocols may join: same protocol type, and a protocol in
    /// common with every member (INCONSISTENT_GROUP_PROTOCOL otherwise).
    func supports(protocolType: String, protocols: [GroupProtocol]) -> Bool {
        guard !protocolType.isEmpty, !protocols.isEmpty else { return false }
        guard !members.isEmpty else { return true }
        guard self.protocolType == protocolType, let candidates = candidateProtocols else { return false }
        return protocols.contains { candidates.contains($0.name) }
    }

    /// Kafka's vote (`selectProtocol`): each member votes for the first protocol it lists that
    /// every member supports; the most votes win, ties going to the leader's preference.
    func selectProtocol() -> String? {
        guard let candidates = candidateProtocols, !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for member in members.values {
            if let vote = member.protocols.first(where: { candidates.contains($0.name) }) { votes[vote.name, default: 0] += 1 }
        }
        let preference = (leaderId.flatMap { members[$0] }?.protocols.map(\.name) ?? []) + candidates.sorted()
        let best = votes.values.max() ?? 0
        return preference.first { votes[$0] == best }
    }

    /// Every member has rejoined and no member given an id is still to come.
    var allMembersJoined: Bool { pendingMembers.isEmpty && members.values.allSatisfy { $0.joinWaiter != nil } }

    /// The rebalance timeout: the largest any member asked for.
    var rebalanceTimeoutMs: Int64 { Int64(members.values.map(\.rebalanceTimeoutMs).max() ?? 0) }

    func memberId(ofInstance instance: String?) -> String? { instance.flatMap { staticMembers[$0] } }
}
