import PetrelCoordinator
import PetrelStorage

/// The broker's side of the coordinators' seam: their appends and reads go through the replica
/// manager like any partition's (so replication will carry them), and they learn which
/// partitions of their topic this broker leads.
final class BrokerPartitionWriter: PartitionWriter {
    private let replicaManager: ReplicaManager
    private let topics: TopicRegistry
    private let watchers = Locked<[String: [@Sendable (LeadershipChange) -> Void]]>([:])

    init(replicaManager: ReplicaManager, topics: TopicRegistry) {
        self.replicaManager = replicaManager
        self.topics = topics
    }

    func append(_ records: [UInt8], to partition: TopicPartition) async throws(PartitionWriteError) -> Int64 {
        guard let target = replicaManager.partition(partition) else {
            throw PartitionWriteError(.unknownPartition, partition: partition, message: "no partition \(partition) here")
        }
        do throws(StorageError) {
            // On one node an append acknowledged under the log's policy is committed: acks=all.
            let info = try await target.log.append(records, origin: .coordinator)
            replicaManager.purgatory.notify(.partition(partition))
            return info.firstOffset
        } catch {
            switch error.code {
            case .invalidBatch, .batchTooLarge, .invalidAppend:
                throw PartitionWriteError(.invalidRecords, partition: partition, message: "\(error)")
            default:
                throw PartitionWriteError(.storage, partition: partition, message: "\(error)")
            }
        }
    }

    func read(_ partition: TopicPartition, fromOffset: Int64, maxBytes: Int) async throws(PartitionWriteError) -> PartitionReadResult {
        guard let target = replicaManager.partition(partition) else {
            throw PartitionWriteError(.unknownPartition, partition: partition, message: "no partition \(partition) here")
        }
        let bound = max(1, maxBytes)
        // Blocking: a read may fault cold pages.
        let read = await replicaManager.executor.run { () -> Result<PartitionReadResult, PartitionWriteError> in
            let highWatermark = target.highWatermark
            do {
                let bytes = try target.log.read(fromOffset: fromOffset, maxBytes: bound) { [UInt8]($0.bytes) }
                return .success(PartitionReadResult(records: bytes, highWatermark: highWatermark, logStartOffset: target.logStartOffset))
            } catch {
                return .failure(PartitionWriteError(.storage, partition: partition, message: "\(error)"))
            }
        }
        return try read.get()
    }

    func watchLeadership(of topic: String, _ listener: @escaping @Sendable (LeadershipChange) -> Void) {
        watchers.withLock { $0[topic, default: []].append(listener) }
        for index in 0..<(topics.info(topic)?.partitions ?? 0) {
            listener(LeadershipChange(partition: TopicPartition(topic: topic, partition: index), kind: .elected, leaderEpoch: 0))
        }
    }

    /// Tells the watchers of `topic` that this broker now leads `partitions` (a single node
    /// leads every partition it creates, in epoch 0).
    func elected(_ partitions: Range<Int32>, of topic: String) {
        let listeners = watchers.withLock { $0[topic] ?? [] }
        for index in partitions {
            for listener in listeners {
                listener(LeadershipChange(partition: TopicPartition(topic: topic, partition: index), kind: .elected, leaderEpoch: 0))
            }
        }
    }
}
