import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage
import Synchronization

/// The broker's topics: which exist, with how many partitions, their ids and their config
/// overrides — and the only code that creates, grows or deletes them. Its methods block on
/// storage (directories, fsyncs): the broker calls them through the `StorageExecutor`.
final class TopicRegistry: Sendable {
    struct TopicInfo: Sendable {
        var partitions: Int32
        var topicId: [UInt8]
    }

    /// Why a topic change was refused.
    struct TopicChangeError: Error, CustomStringConvertible {
        let code: ErrorCode
        let message: String
        var description: String { message }
    }

    private let config: BrokerConfig
    private let manager: LogManager
    private let logger: Logger
    private let isStopping: @Sendable () -> Bool
    /// Topic name → partition count and topic id.
    private let topics: Mutex<[String: TopicInfo]>
    /// Topic name → config overrides (CreateTopics' configs), persisted in `topic-configs`.
    private let overrides: Mutex<[String: [String: String]]>
    private let topicConfigFile: TopicConfigFile
    /// Serialises topic creation, growth and deletion: two concurrent auto-creations of one
    /// topic must not draw two topic ids.
    private let topicChanges = Mutex<Void>(())

    /// The stored overrides' log configs, for opening the logs: read before the `LogManager`
    /// opens any partition, so that none opens with the broker's defaults instead.
    static func storedLogConfigs(_ file: TopicConfigFile, base: LogConfig) throws -> (overrides: [String: [String: String]], configs: [String: LogConfig]) {
        let stored = try file.read()
        var logConfigs: [String: LogConfig] = [:]
        for (topic, configs) in stored {
            do { logConfigs[topic] = try TopicConfigs.logConfig(configs, base: base) } catch {
                throw StorageError(.corrupt(reason: "topic \(topic): \(error.message)"), path: file.path)
            }
        }
        return (stored, logConfigs)
    }

    init(config: BrokerConfig, manager: LogManager, topicConfigFile: TopicConfigFile, overrides: [String: [String: String]],
         io: any FileIO, logger: Logger, isStopping: @escaping @Sendable () -> Bool) throws {
        self.config = config
        self.manager = manager
        self.topicConfigFile = topicConfigFile
        self.overrides = Mutex(overrides)
        self.logger = logger
        self.isStopping = isStopping
        var known: [String: TopicInfo] = [:]
        for partition in manager.partitions {
            let directory = "\(config.dataDirectory)/\(partition.directoryName)"
            let topicId = try PartitionMetadataFile(directory: directory, io: io).read()
            var info = known[partition.topic] ?? TopicInfo(partitions: 0, topicId: topicId ?? [UInt8](repeating: 0, count: 16))
            info.partitions = max(info.partitions, partition.partition + 1)
            known[partition.topic] = info
        }
        topics = Mutex(known)
    }

    func info(_ name: String) -> TopicInfo? { topics.withLock { $0[name] } }

    var names: [String] { topics.withLock { $0.keys.sorted() } }

    func overrides(of name: String) -> [String: String] { overrides.withLock { $0[name] ?? [:] } }

    /// The codec a topic's `compression.type` names, in which its batches are stored; nil for
    /// `producer` (kept as sent).
    func storedCodec(of name: String) -> CompressionCodec? {
        overrides(of: name)["compression.type"].flatMap(TopicConfigs.codec(compressionType:))
    }

    /// The log settings of a topic's partitions: its overrides over the broker's.
    func logConfig(of name: String) -> LogConfig {
        let topicOverrides = overrides(of: name)
        guard !topicOverrides.isEmpty else { return config.log }
        do { return try TopicConfigs.logConfig(topicOverrides, base: config.log) } catch {
            preconditionFailure("stored overrides of topic \(name) were validated when stored: \(error)")
        }
    }

    var partitionCount: Int { topics.withLock { $0.values.reduce(0) { $0 + Int($1.partitions) } } }

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
    /// nothing: when a partition cannot be created, those created before it are deleted again.
    @discardableResult
    func create(_ name: String, partitions: Int32, configs: [String: String] = [:]) throws -> TopicInfo {
        try topicChanges.withLock { _ throws -> TopicInfo in
            if let existing = info(name) { return existing }
            try checkPartitionBudget(adding: Int(partitions))
            let logConfig = try TopicConfigs.logConfig(configs, base: config.log)
            // The overrides are durable before any partition exists: a restart never opens a
            // partition of this topic with the broker's defaults instead.
            try setOverrides(configs, of: name)
            var generator = SystemRandomNumberGenerator()
            let topicId = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do { try createPartitions(of: name, range: 0..<partitions, topicId: topicId, config: logConfig) } catch {
                do { try setOverrides([:], of: name) } catch let undo {
                    logger.error("could not remove the overrides of topic \(name) after a failed creation: \(undo)")
                }
                throw error
            }
            let info = TopicInfo(partitions: partitions, topicId: topicId)
            topics.withLock { $0[name] = info }
            logger.info("created topic \(name) with \(partitions) partitions")
            return info
        }
    }

    /// Grows a topic to `count` partitions, all or nothing.
    func addPartitions(_ name: String, count: Int32) throws {
        try topicChanges.withLock { _ throws in
            guard let info = info(name) else { throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)") }
            guard count > info.partitions else { return }
            try checkPartitionBudget(adding: Int(count - info.partitions))
            try createPartitions(of: name, range: info.partitions..<count, topicId: info.topicId, config: logConfig(of: name))
            topics.withLock { $0[name]?.partitions = count }
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

    /// Closes and deletes every partition of a topic. The topic is gone from metadata first; a
    /// partition whose deletion fails is reported (and its error rethrown) after the others.
    func delete(_ name: String) throws {
        try topicChanges.withLock { _ throws in
            guard let info = topics.withLock({ $0.removeValue(forKey: name) }) else {
                throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)")
            }
            var firstError: (any Error)?
            for partition in 0..<info.partitions {
                let topicPartition = TopicPartition(topic: name, partition: partition)
                do throws(StorageError) { try manager.deleteLog(for: topicPartition) } catch where error.code == .notFound {
                    continue
                } catch {
                    logger.error("deleting \(topicPartition) failed: \(error)")
                    firstError = firstError ?? error
                }
            }
            if let firstError { throw firstError }
            try setOverrides([:], of: name)
            logger.info("deleted topic \(name)")
        }
    }

    /// Replaces a topic's overrides, durably, before they take effect.
    private func setOverrides(_ configs: [String: String], of name: String) throws(StorageError) {
        try overrides.withLock { (overrides) throws(StorageError) in
            guard overrides[name] ?? [:] != configs else { return }
            var changed = overrides
            changed[name] = configs.isEmpty ? nil : configs
            try topicConfigFile.write(changed)
            overrides = changed
        }
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
