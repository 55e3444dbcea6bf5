import Foundation
import PetrelClient
import PetrelProtocol
import PetrelStorage
import Synchronization

/// One member of the rebalance benchmark's consumer group, speaking the classic protocol over
/// its own connection as a consumer does: JoinGroup (with the MEMBER_ID_REQUIRED round trip),
/// SyncGroup (the leader assigns the partitions round-robin), then a Heartbeat every
/// `heartbeatIntervalMs` until one says the group rebalances, and a LeaveGroup when stopped.
/// Each completed SyncGroup is posted on the `GroupBenchBoard`: from then on the member has its
/// partitions, which is when a consumer starts fetching again.
///
/// Its own code, not a client library's, so that the figure is the coordinator's and the
/// protocol's, with no client's backoffs and timers in it.
final class GroupBenchMember: Sendable {
    let index: Int
    let connection: KafkaConnection
    let settings: GroupBenchSettings
    let board: GroupBenchBoard
    private let stopping = Atomic<Bool>(false)

    init(index: Int, connection: KafkaConnection, settings: GroupBenchSettings, board: GroupBenchBoard) {
        self.index = index
        self.connection = connection
        self.settings = settings
        self.board = board
    }

    /// Asks the member to leave; it does at its next heartbeat (at most one interval later).
    func stop() { stopping.store(true, ordering: .relaxed) }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Joins, stays, and leaves when stopped; request failures are counted on the board and the
    /// member joins again after a short pause.
    func run() async {
        var memberId = ""
        board.started(index)
        membership: while !isStopping {
            do {
                let join = try await connection.send(JoinGroupRequest(
                    groupId: settings.groupId, sessionTimeoutMs: settings.sessionTimeoutMs, rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
                    memberId: memberId, protocolType: "consumer",
                    protocols: [.init(name: "roundrobin", metadata: Self.subscription(settings.topic))]), as: JoinGroupResponse.self)
                switch join.errorCode {
                case .none: break
                case .memberIdRequired:
                    memberId = join.memberId
                    continue membership
                default:
                    if join.errorCode == .unknownMemberId { memberId = "" }
                    board.failed(index, "JoinGroup: \(join.errorCode)")
                    try await Task.sleep(for: .milliseconds(50))
                    continue membership
                }
                memberId = join.memberId
                let assignments = join.leader == memberId ? Self.assign(partitions: settings.partitions, topic: settings.topic, to: join.members.map(\.memberId)) : []
                let sync = try await connection.send(SyncGroupRequest(
                    groupId: settings.groupId, generationId: join.generationId, memberId: memberId,
                    assignments: assignments.map { .init(memberId: $0.memberId, assignment: $0.assignment) }), as: SyncGroupResponse.self)
                guard sync.errorCode == .none else { continue membership }
                board.synced(index, generation: join.generationId)
                while !isStopping {
                    try await Task.sleep(for: .milliseconds(settings.heartbeatIntervalMs))
                    if isStopping { break }
                    let heartbeat = try await connection.send(HeartbeatRequest(groupId: settings.groupId, generationId: join.generationId, memberId: memberId),
                                                              as: HeartbeatResponse.self)
                    if heartbeat.errorCode == .none { continue }
                    if heartbeat.errorCode == .unknownMemberId { memberId = "" }
                    continue membership
                }
            } catch {
                board.failed(index, "\(error)")
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        board.leaving(index)
        if !memberId.isEmpty {
            _ = try? await connection.send(LeaveGroupRequest(groupId: settings.groupId, members: [.init(memberId: memberId)]), as: LeaveGroupResponse.self)
        }
        await connection.close()
    }

    /// A consumer's subscription to one topic (ConsumerProtocolSubscription v0).
    static func subscription(_ topic: String) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 1]
        bytes += bigEndian(Int16(topic.utf8.count)) + Array(topic.utf8)
        return bytes + [0xFF, 0xFF, 0xFF, 0xFF]  // no user data
    }

    /// The leader's round-robin assignment of `partitions` partitions over `members`, each as
    /// ConsumerProtocolAssignment v0 bytes.
    static func assign(partitions: Int32, topic: String, to members: [String]) -> [(memberId: String, assignment: [UInt8])] {
        members.enumerated().map { position, memberId in
            let mine = stride(from: Int32(position), to: partitions, by: max(1, members.count)).map { $0 }
            var bytes: [UInt8] = [0, 0, 0, 0, 0, 1]
            bytes += bigEndian(Int16(topic.utf8.count)) + Array(topic.utf8)
            bytes += bigEndian(Int32(mine.count))
            for partition in mine { bytes += bigEndian(partition) }
            return (memberId, bytes + [0xFF, 0xFF, 0xFF, 0xFF])
        }
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// What the rebalance benchmark needs of its group.
struct GroupBenchSettings: Sendable {
    var groupId = "petrel-bench-rebalance"
    var topic = "petrel-bench-groups"
    var partitions: Int32 = 20
    var heartbeatIntervalMs = 250
    var sessionTimeoutMs: Int32 = 10_000
    var rebalanceTimeoutMs: Int32 = 10_000
}

/// Where members post what they did and when (monotonic milliseconds), and where the benchmark
/// reads it.
final class GroupBenchBoard: Sendable {
    struct Entry {
        var startedMs: Double?
        var leavingMs: Double?
        var generation: Int32 = -1
        var syncedMs: Double?
    }

    private let entries = Locked<[Int: Entry]>([:])
    private let failures = Locked<[String]>([])
    private let origin = ContinuousClock.now

    var nowMs: Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
    }

    func started(_ index: Int) { entries.withLock { $0[index, default: Entry()].startedMs = nowMs } }
    func leaving(_ index: Int) { entries.withLock { $0[index, default: Entry()].leavingMs = nowMs } }

    func synced(_ index: Int, generation: Int32) {
        let now = nowMs
        entries.withLock { entries in
            entries[index, default: Entry()].generation = generation
            entries[index, default: Entry()].syncedMs = now
        }
    }

    func failed(_ index: Int, _ reason: String) { failures.withLock { $0.append("member \(index): \(reason)") } }

    var failureCount: Int { failures.withLock { $0.count } }
    var firstFailures: [String] { failures.withLock { Array($0.prefix(3)) } }

    func entry(_ index: Int) -> Entry? { entries.withLock { $0[index] } }

    /// When every member of `members` has synced in a generation after `generation`: that
    /// generation and the last of their sync times; nil until then.
    func allSynced(_ members: [Int], after generation: Int32) -> (generation: Int32, lastSyncedMs: Double)? {
        entries.withLock { entries in
            var newest: Int32 = -1, last = 0.0
            for index in members {
                guard let entry = entries[index], entry.generation > generation, let synced = entry.syncedMs else { return nil }
                newest = max(newest, entry.generation)
                last = max(last, synced)
            }
            // Members must agree: one still in an older new generation has not caught up.
            guard members.allSatisfy({ entries[$0]?.generation == newest }) else { return nil }
            return (newest, last)
        }
    }
}
