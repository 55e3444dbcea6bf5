import Logging
import PetrelProtocol

/// The offsets topic (`__consumer_offsets`), made on the first group lookup as Kafka does
/// (`offsets.topic.num.partitions` partitions, `offsets.topic.segment.bytes` segments).
///
/// Until compaction exists it must not lose a record to retention: a group that committed once
/// and went quiet would lose its offsets. So time and size retention are off for it; the
/// topic only grows (compaction, with `cleanup.policy=compact`, comes with its issue).
struct OffsetsTopic: Sendable {
    let name: String
    let partitions: Int32
    let topics: TopicRegistry
    let executor: StorageExecutor
    let logger: Logger

    static let configs = ["retention.ms": "-1", "retention.bytes": "-1", "segment.bytes": "104857600"]

    /// Nil once the topic exists; the error to answer when it could not be made.
    func ensureExists() async -> (code: ErrorCode, message: String)? {
        guard topics.info(name) == nil else { return nil }
        // Blocking: creating partitions makes directories and files.
        let failure = await executor.run { [topics, name, partitions] () -> String? in
            do {
                try topics.create(name, partitions: partitions, configs: Self.configs, isInternal: true)
                return nil
            } catch {
                return "\(error)"
            }
        }
        guard let failure else { return nil }
        logger.error("creating the offsets topic \(name) failed: \(failure)")
        return (.coordinatorNotAvailable, "the offsets topic could not be created: \(failure)")
    }
}
