import Logging
import PetrelProtocol

/// The offsets topic (`__consumer_offsets`), made on the first group lookup as Kafka does
/// (`offsets.topic.num.partitions` partitions, `offsets.topic.segment.bytes` segments).
///
/// Compacted, as Kafka keeps it (`cleanup.policy=compact`): each group's last metadata and
/// each partition's last committed offset stay however old, tombstones remove deleted ones.
struct OffsetsTopic: Sendable {
    let name: String
    let partitions: Int32
    let topics: TopicRegistry
    let executor: StorageExecutor
    let logger: Logger

    static let configs = ["cleanup.policy": "compact", "segment.bytes": "104857600"]

    /// Compacts an offsets topic made before Petrel had a cleaner (with time and size retention
    /// off instead, so that it only grew): its overrides become Kafka's.
    func compactIfMadeBeforeCompaction() throws(TopicRegistry.TopicChangeError) {
        guard topics.info(name) != nil, topics.overrides(of: name)["cleanup.policy"] == nil else { return }
        try topics.replaceConfigs(of: name, with: Self.configs, validateOnly: false)
    }

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
