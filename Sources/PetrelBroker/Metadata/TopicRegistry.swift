import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

/// The broker's topics — which exist, with how many partitions, their ids and config overrides
/// — kept in the `MetadataStore`, and the only code that creates, grows or deletes them. Its
/// methods block on storage (directories, fsyncs): the broker calls them through the
/// `StorageExecutor`.
///
/// A topic's record is durable before its first partition exists (a restart never opens a
/// partition with the broker's defaults instead of its overrides), and a deletion is recorded
/// before its first partition goes (a restart finishes it instead of bringing half a topic back).
final class TopicRegistry: Sendable {
    struct TopicInfo: Sendable {
        var partitions: Int32
        var topicId: [UInt8]
        var isInternal: Bool
    }

    /// Why a topic change was refused.
    struct TopicChangeError: Error, CustomStringConvertible {
        let code: ErrorCode
        let message: String
        var description: String { message }
    }

    let config: BrokerConfig
    let manager: LogManager
    let store: any MetadataStore
    let logger: Logger
    private let isStopping: @Sendable () -> Bool
    /// Topics visible to requests: live records whose partitions all exist.
    private let visible: Locked<[String: TopicInfo]>
    /// Serialises topic creation, growth and deletion: two concurrent auto-creations of one
    /// topic must not draw two topic ids.
    let topicChanges = Locked<Void>(())
    /// The log settings of a topic without overrides: the broker's, with its dynamic settings.
    let logDefaultsValue: Locked<LogConfig>
    var logDefaults: LogConfig { logDefaultsValue.withLock { $0 } }
    /// Told when partitions become visible (created or grown): leadership watchers.
    private let onPartitionsCreated = Locked<(@Sendable (String, Range<Int32>) -> Void)?>(nil)

    /// Sets who learns of partitions as they become visible.
    func whenPartitionsCreated(_ callback: @escaping @Sendable (String, Range<Int32>) -> Void) {
        onPartitionsCreated.withLock { $0 = callback }
    }

    /// Opens the registry over `store`, finishing what a crash interrupted: a deletion under way
    /// is completed, a live topic's missing partitions are created, and partition directories
    /// that no record names are adopted (with a warning) rather than hidden.
    init(config: BrokerConfig, manager: LogManager, store: any MetadataStore, io: any FileIO, logger: Logger,
         isStopping: @escaping @Sendable () -> Bool) throws {
        self.config = config
        logDefaultsValue = Locked(config.log)
        self.manager = manager
        self.store = store
        self.logger = logger
        self.isStopping = isStopping
        visible = Locked([:])
        var named = Set<String>()
        for record in store.topics() {
            named.insert(record.name)
            let partitions = (0..<record.partitions).map { TopicPartition(topic: record.name, partition: $0) }
            switch record.state {
            case .deleting:
                logger.warning("finishing the deletion of topic \(record.name), interrupted before")
                try deletePartitions(of: record.name, count: record.partitions)
                try store.remove(topic: record.name)
            case .live:
                let missing = partitions.filter { manager.log(for: $0) == nil }
                if !missing.isEmpty {
                    logger.warning("topic \(record.name) lacks partitions \(missing.map(\.partition)); creating them (a creation was interrupted, or a directory removed)")
                    let logConfig = try TopicConfigs.logConfig(record.configs, base: logDefaults)
                    for partition in missing { try manager.createLog(for: partition, topicId: record.topicId, config: logConfig) }
                }
                visible.withLock { $0[record.name] = TopicInfo(partitions: record.partitions, topicId: record.topicId, isInternal: record.isInternal) }
            }
        }
        for partition in manager.partitions where !named.contains(partition.topic) {
            logger.warning("partition directory \(partition.directoryName) belongs to no recorded topic; adopting it")
            let topicId = try PartitionMetadataFile(directory: "\(config.dataDirectory)/\(partition.directoryName)", io: io).read()
            var info = visible.withLock { $0[partition.topic] } ?? TopicInfo(partitions: 0, topicId: topicId ?? [UInt8](repeating: 0, count: 16), isInternal: false)
            info.partitions = max(info.partitions, partition.partition + 1)
            try store.put(BrokerStateFiles.TopicRecord(name: partition.topic, topicId: info.topicId, partitions: info.partitions))
            visible.withLock { $0[partition.topic] = info }
        }
    }

    func info(_ name: String) -> TopicInfo? { visible.withLock { $0[name] } }

    var names: [String] { visible.withLock { $0.keys.sorted() } }

    func record(_ name: String) -> BrokerStateFiles.TopicRecord? { store.topics().first { $0.name == name } }

    func overrides(of name: String) -> [String: String] { record(name)?.configs ?? [:] }

    /// The codec a topic's `compression.type` names, in which its batches are stored; nil for
    /// `producer` (kept as sent).
    func storedCodec(of name: String) -> CompressionCodec? {
        overrides(of: name)["compression.type"].flatMap(TopicConfigs.codec(compressionType:))
    }

    /// The log settings of a topic's partitions: its overrides over the broker's.
    func logConfig(of name: String) -> LogConfig {
        let topicOverrides = overrides(of: name)
        guard !topicOverrides.isEmpty else { return logDefaults }
        do { return try TopicConfigs.logConfig(topicOverrides, base: logDefaults) } catch {
            preconditionFailure("stored overrides of topic \(name) were validated when stored: \(error)")
        }
    }

    var partitionCount: Int { visible.withLock { $0.values.reduce(0) { $0 + Int($1.partitions) } } }

    /// Checks that `adding` partitions fit the per-request and broker-wide bounds.
    func checkPartitionBudget(adding: Int, alreadyInRequest: Int = 0) throws(TopicChangeError) {
        guard adding + alreadyInRequest <= config.requestPartitionsMax else {
            throw TopicChangeError(code: .invalidPartitions, message: "a request may create at most \(config.requestPartitionsMax) partitions (petrel.max.partitions.per.request)")
        }
        let held = partitionCount
        guard held + adding <= config.brokerPartitionsMax else {
            throw TopicChangeError(code: .policyViolation, message: "the broker holds \(held) partitions; \(adding) more would pass max.broker.partitions=\(config.brokerPartitionsMax)")
        }
    }

    /// Creates a topic with `partitions` partitions (idempotent for an existing topic), all or
    /// nothing: when a partition cannot be created, those created before it are deleted again
    /// and the record is removed.
    @discardableResult
    func create(_ name: String, partitions: Int32, configs: [String: String] = [:], isInternal: Bool = false) throws -> TopicInfo {
        try topicChanges.withLock { _ throws -> TopicInfo in
            if let existing = info(name) { return existing }
            try checkPartitionBudget(adding: Int(partitions))
            let logConfig = try TopicConfigs.logConfig(configs, base: logDefaults)
            var generator = SystemRandomNumberGenerator()
            let topicId = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try store.put(BrokerStateFiles.TopicRecord(name: name, topicId: topicId, partitions: partitions, isInternal: isInternal, configs: configs))
            do { try createPartitions(of: name, range: 0..<partitions, topicId: topicId, config: logConfig) } catch {
                do throws(StorageError) { try store.remove(topic: name) } catch let undo {
                    logger.error("could not remove the record of topic \(name) after a failed creation: \(undo)")
                }
                throw error
            }
            let info = TopicInfo(partitions: partitions, topicId: topicId, isInternal: isInternal)
            visible.withLock { $0[name] = info }
            onPartitionsCreated.withLock { $0 }?(name, 0..<partitions)
            logger.info("created topic \(name) with \(partitions) partitions")
            return info
        }
    }

    /// Grows a topic to `count` partitions, all or nothing.
    func addPartitions(_ name: String, count: Int32) throws {
        try topicChanges.withLock { _ throws in
            guard let info = info(name), var record = record(name) else {
                throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)")
            }
            guard count > info.partitions else { return }
            try checkPartitionBudget(adding: Int(count - info.partitions))
            try createPartitions(of: name, range: info.partitions..<count, topicId: info.topicId, config: logConfig(of: name))
            record.partitions = count
            try store.put(record)
            visible.withLock { $0[name]?.partitions = count }
            onPartitionsCreated.withLock { $0 }?(name, info.partitions..<count)
            logger.info("topic \(name) now has \(count) partitions")
        }
    }

    /// Creates the logs of `range`; on any failure (or a shutdown starting) deletes the ones it
    /// created and rethrows, so a failed creation leaves nothing behind.
    private func createPartitions(of name: String, range: Range<Int32>, topicId: [UInt8], config: LogConfig) throws {
        var created: [TopicPartition] = []
        do {
            for partition in range {
                guard !isStopping() else { throw TopicChangeError(code: .requestTimedOut, message: "the broker is shutting down") }
                let topicPartition = TopicPartition(topic: name, partition: partition)
                if manager.log(for: topicPartition) == nil {
                    try manager.createLog(for: topicPartition, topicId: topicId, config: config)
                    created.append(topicPartition)
                }
            }
        } catch {
            logger.error("creating partitions \(range) of topic \(name) failed: \(error); removing the \(created.count) created")
            for partition in created.reversed() {
                do { try manager.deleteLog(for: partition) } catch {
                    logger.error("could not remove \(partition) after a failed creation: \(error)")
                }
            }
            throw error
        }
    }

    /// Deletes a topic: gone from metadata first, its deletion recorded, then its partitions,
    /// then its record. A partition whose deletion fails is reported (and its error rethrown)
    /// after the others; the record stays `deleting`, and the next start-up tries again.
    func delete(_ name: String) throws {
        try topicChanges.withLock { _ throws in
            guard visible.withLock({ $0.removeValue(forKey: name) }) != nil, var record = record(name) else {
                throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)")
            }
            record.state = .deleting
            try store.put(record)
            try deletePartitions(of: name, count: record.partitions)
            try store.remove(topic: name)
            logger.info("deleted topic \(name)")
        }
    }

    private func deletePartitions(of name: String, count: Int32) throws {
        var firstError: (any Error)?
        for partition in 0..<count {
            let topicPartition = TopicPartition(topic: name, partition: partition)
            do throws(StorageError) { try manager.deleteLog(for: topicPartition) } catch where error.code == .notFound {
                continue
            } catch {
                logger.error("deleting \(topicPartition) failed: \(error)")
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Creates a topic on first use (Metadata or Produce naming it), when `auto.create.topics.enable`.
    /// A failure is logged and answered with its error code; nil when auto-creation does not apply.
    func autoCreate(_ name: String) -> Result<TopicInfo, TopicChangeError>? {
        guard config.autoCreateTopics, TopicPartition.isValidTopicName(name) else { return nil }
        do { return .success(try create(name, partitions: config.numPartitions)) } catch let error as TopicChangeError {
            logger.warning("auto-creating topic \(name) was refused: \(error)")
            return .failure(error)
        } catch {
            logger.error("auto-creating topic \(name) failed: \(error)")
            return .failure(TopicChangeError(code: .kafkaStorageError, message: "\(error)"))
        }
    }
}
