import Foundation
import PetrelProtocol
import PetrelStorage

/// Kafka's classic group coordinator: membership, rebalances, assignments and committed
/// offsets of consumer groups, kept in memory and persisted to the offsets topic
/// (`__consumer_offsets`) through a `PartitionWriter`, in records byte-identical to Kafka's.
///
/// A group lives in the offsets partition its id hashes to; this coordinator serves the groups
/// of the partitions it has loaded (replayed) since their leadership came here. Time comes from
/// the injected `Scheduler`, so a test drives session timeouts and rebalance delays by hand.
///
/// Every operation takes the one lock, changes the state, and collects what is to happen after
/// it (answers to parked joins and syncs, timers, writes), which runs once the lock is
/// released: no callback runs under the lock, and no thread ever blocks.
public final class GroupCoordinator: Sendable {
    let config: GroupCoordinatorConfig
    let scheduler: any Scheduler
    let writer: any PartitionWriter
    let state = Locked<State>(State())

    struct State {
        var groups: [String: ClassicGroup] = [:]
        /// Offsets partitions led here: loading, then loaded. A group of any other partition is
        /// NOT_COORDINATOR.
        var partitions: [Int32: PartitionLoad] = [:]
        var counters = GroupCoordinatorCounters()
        /// Each group's latest metadata write still on its way (`chainedMetadataWrite`).
        var metadataWrites: [String: (sequence: UInt64, task: MetadataWrite)] = [:]
        var nextMetadataWrite: UInt64 = 0
    }

    enum PartitionLoad { case loading, loaded }

    /// Starts serving the offsets partitions the writer says are led here (loading each first).
    public init(config: GroupCoordinatorConfig, scheduler: any Scheduler, writer: any PartitionWriter) {
        self.config = config
        self.scheduler = scheduler
        self.writer = writer
        writer.watchLeadership(of: config.offsetsTopic) { [weak self] change in
            guard let self, change.partition.partition < config.offsetsTopicPartitions else { return }
            switch change.kind {
            case .elected: Task { await self.load(partition: change.partition.partition) }
            case .resigned: self.unload(partition: change.partition.partition)
            }
        }
        scheduleExpiry()
    }

    /// The offsets partition of a group: Kafka's `abs(groupId.hashCode) % partitions`, with
    /// Java's `String.hashCode` over UTF-16 code units, so a group lives where Kafka puts it.
    public func partition(for groupId: String) -> Int32 {
        var hash: Int32 = 0
        for unit in groupId.utf16 { hash = hash &* 31 &+ Int32(unit) }
        let positive = hash == Int32.min ? 0 : abs(hash)
        return positive % config.offsetsTopicPartitions
    }

    /// The counters kept for metrics, with the groups of the partitions loaded here counted by
    /// state as they are now.
    public var counters: GroupCoordinatorCounters {
        state.withLock { state in
            var counters = state.counters
            counters.groupsByState = Dictionary(uniqueKeysWithValues: GroupState.allCases.map { ($0, 0) })
            for group in state.groups.values where state.partitions[partition(for: group.groupId)] == .loaded {
                counters.groupsByState[group.state, default: 0] += 1
            }
            return counters
        }
    }

    /// Whether this coordinator serves `groupId` now: nil when it does, else the error to answer
    /// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS).
    func servingError(_ groupId: String, in state: State) -> ErrorCode? {
        switch state.partitions[partition(for: groupId)] {
        case .loaded: nil
        case .loading: .coordinatorLoadInProgress
        case nil: .notCoordinator
        }
    }

    /// Whether the group's offsets partition is loaded here (FindCoordinator answers this broker
    /// either way on one node; clients retry on COORDINATOR_LOAD_IN_PROGRESS).
    public func isLoaded(groupOf groupId: String) -> Bool {
        state.withLock { $0.partitions[partition(for: groupId)] == .loaded }
    }

    var nowMs: Int64 { scheduler.nowMs }
}

/// Counts kept for the metrics issue to expose.
public struct GroupCoordinatorCounters: Sendable, Equatable {
    /// Groups in each state (every state present, zero or more).
    public var groupsByState: [GroupState: Int] = [:]
    /// Rebalances completed (a generation formed).
    public var rebalances = 0
    public var offsetCommits = 0
    public var expiredMembers = 0
    public var expiredOffsets = 0
    public var failedWrites = 0
}

/// What an operation does once the lock is released.
struct GroupEffects {
    var joins: [(CheckedContinuation<JoinGroupResult, Never>, JoinGroupResult)] = []
    var syncs: [(CheckedContinuation<SyncGroupResult, Never>, SyncGroupResult)] = []
    var timers: [(delayMs: Int64, work: @Sendable () -> Void)] = []
    /// Groups whose metadata record to write (without waiting for it).
    var persists: [String] = []
    var completedRebalances = 0

    mutating func answer(_ member: inout GroupMember, join result: JoinGroupResult) {
        if let waiter = member.joinWaiter { joins.append((waiter, result)) }
        member.joinWaiter = nil
    }

    mutating func answer(_ member: inout GroupMember, sync result: SyncGroupResult) {
        if let waiter = member.syncWaiter { syncs.append((waiter, result)) }
        member.syncWaiter = nil
    }

    /// Answers whatever the member has parked with `error` (it is gone).
    mutating func fail(_ member: GroupMember, with error: ErrorCode) {
        var member = member
        answer(&member, join: JoinGroupResult(errorCode: error, memberId: member.memberId))
        answer(&member, sync: SyncGroupResult(errorCode: error))
    }
}

extension GroupCoordinator {
    /// Runs `body` under the lock, then what it collected.
    func update<R>(_ body: (inout State, inout GroupEffects) -> R) -> R {
        var effects = GroupEffects()
        let result = state.withLock { state in
            let result = body(&state, &effects)
            state.counters.rebalances += effects.completedRebalances
            return result
        }
        perform(effects)
        return result
    }

    func perform(_ effects: GroupEffects) {
        for (waiter, result) in effects.joins { waiter.resume(returning: result) }
        for (waiter, result) in effects.syncs { waiter.resume(returning: result) }
        for timer in effects.timers { scheduler.schedule(afterMs: max(0, timer.delayMs), timer.work) }
        for groupId in effects.persists { persistGroup(groupId) }
    }
}
