// A runnable example of embedding Petrel's group coordinator in another broker: the steps of
// the "Embedding the group coordinator" guide (PetrelCoordinator.docc), on a temporary data
// directory. `swift run petrel-coordinator-example`.
import Foundation
import PetrelCoordinator
import PetrelProtocol
import PetrelStorage

/// The embedder's side of the seam: appends and reads of its own partitions. Here they are
/// PetrelStorage logs on one node, so every offsets partition is led here from the start. A
/// broker with replication would append with acks=all and report leadership as it moves.
final class LogPartitionWriter: PartitionWriter {
    let manager: LogManager
    let partitions: Int32
    /// Opening a log and reading it block: they run here, never on the cooperative pool.
    let queue = DispatchQueue(label: "example.storage", attributes: .concurrent)

    init(manager: LogManager, partitions: Int32) {
        self.manager = manager
        self.partitions = partitions
    }

    func append(_ records: [UInt8], to partition: TopicPartition) async throws(PartitionWriteError) -> Int64 {
        let log = try await blocking(partition) { try self.manager.logCreatingIfMissing(for: partition) }
        do {
            return try await log.append(records, origin: .coordinator).firstOffset
        } catch {
            throw PartitionWriteError(.storage, partition: partition, message: "\(error)")
        }
    }

    func read(_ partition: TopicPartition, fromOffset: Int64, maxBytes: Int) async throws(PartitionWriteError) -> PartitionReadResult {
        try await blocking(partition) {
            let log = try self.manager.logCreatingIfMissing(for: partition)
            let end = log.logEndOffset
            let bytes = fromOffset < end ? try log.read(fromOffset: fromOffset, maxBytes: maxBytes) { [UInt8]($0.bytes) } : []
            return PartitionReadResult(records: bytes, highWatermark: end, logStartOffset: log.logStartOffset)
        }
    }

    func watchLeadership(of topic: String, _ listener: @escaping @Sendable (LeadershipChange) -> Void) {
        for index in 0..<partitions {
            listener(LeadershipChange(partition: TopicPartition(topic: topic, partition: index), kind: .elected, leaderEpoch: 0))
        }
    }

    private func blocking<T: Sendable>(_ partition: TopicPartition, _ work: @escaping @Sendable () throws -> T) async throws(PartitionWriteError) -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { try work() }) }
        }
        do {
            return try result.get()
        } catch {
            throw PartitionWriteError(.storage, partition: partition, message: "\(error)")
        }
    }
}

/// A coordinator over the data directory, once its offsets partitions have loaded.
func startCoordinator(_ manager: LogManager, config: GroupCoordinatorConfig) async -> GroupCoordinator {
    let coordinator = GroupCoordinator(config: config, scheduler: TaskScheduler(),
                                       writer: LogPartitionWriter(manager: manager, partitions: config.offsetsTopicPartitions))
    while !coordinator.isLoaded(groupOf: "orders-service") { try? await Task.sleep(for: .milliseconds(1)) }
    return coordinator
}

let dataDirectory = NSTemporaryDirectory() + "petrel-coordinator-example-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
var config = GroupCoordinatorConfig()
config.offsetsTopicPartitions = 4
config.initialRebalanceDelayMs = 100   // Kafka's default is 3000
let orders = TopicPartition(topic: "orders", partition: 0)

do {
    var logConfig = LogConfig()
    logConfig.flushPolicy = .beforeAcknowledge
    let manager = try LogManager(dataDirectory: dataDirectory, defaultConfig: logConfig)
    let coordinator = await startCoordinator(manager, config: config)

    // A consumer joins: the first JoinGroup asks for a member id (v4+), the second joins with it
    // and returns when the rebalance completes (after the initial delay).
    var join = JoinGroupParameters(groupId: "orders-service", memberId: "", groupInstanceId: nil, clientId: "consumer-1",
                                   clientHost: "/127.0.0.1", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000,
                                   protocolType: "consumer", protocols: [GroupProtocol(name: "range", metadata: [])],
                                   requiresKnownMemberId: true)
    let first = await coordinator.join(join)
    print("JoinGroup: \(first.errorCode == .memberIdRequired ? "MEMBER_ID_REQUIRED" : "\(first.errorCode)"), member id \(first.memberId)")
    join.memberId = first.memberId
    let joined = await coordinator.join(join)
    print("joined generation \(joined.generationId); leader: \(joined.leaderId == joined.memberId)")

    // The leader's SyncGroup carries every member's assignment (opaque bytes to the coordinator).
    let synced = await coordinator.sync(SyncGroupParameters(groupId: "orders-service", generationId: joined.generationId, memberId: joined.memberId,
                                                            groupInstanceId: nil, protocolType: "consumer", protocolName: "range",
                                                            assignments: [(joined.memberId, Array("orders-0".utf8))]))
    print("SyncGroup: assignment \(String(decoding: synced.assignment, as: UTF8.self))")
    let heartbeat = coordinator.heartbeat(groupId: "orders-service", generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: nil)
    print("Heartbeat: \(heartbeat == .none ? "ok" : "\(heartbeat)")")

    // Commit after processing: acknowledged once the record is in the offsets partition.
    let errors = await coordinator.commitOffsets(OffsetCommitParameters(
        groupId: "orders-service", generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: nil,
        offsets: [OffsetToCommit(partition: orders, offset: 42, leaderEpoch: -1, metadata: "processed")]))
    print("OffsetCommit: \(errors == [.none] ? "acknowledged" : "\(errors)")")
    _ = coordinator.leave(groupId: "orders-service", members: [LeavingMember(memberId: joined.memberId, groupInstanceId: nil)])
    // Shutting down: answer whatever is parked, then let the last group records (the group
    // went empty) reach the log before the storage closes.
    coordinator.stop()
    await coordinator.metadataWritesEnded()

    // A new coordinator over the same partitions (a restart) replays them.
    let restarted = await startCoordinator(manager, config: config)
    let fetched = try restarted.fetchOffsets(groupId: "orders-service", partitions: [orders]).get()
    print("after a restart: committed offset \(fetched.first?.1?.offset ?? -1), group \(restarted.listGroups().map { "\($0.groupId) \($0.state)" })")
    print("counters: \(restarted.counters.groupsByState.filter { $0.value > 0 })")
    restarted.stop()
    try manager.close()
} catch {
    print("example failed: \(error)")
    exit(1)
}
