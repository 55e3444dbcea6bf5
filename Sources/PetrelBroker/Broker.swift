import Dispatch
import Foundation
import Logging
import PetrelFormat
public import PetrelProtocol
public import PetrelStorage
import Synchronization

/// A single-node Kafka-compatible broker over PetrelStorage: decodes a request frame, does the
/// work and encodes the response. The network layer (`BrokerServer`) only frames bytes.
///
/// Storage calls still run on the Swift cooperative pool (a storage executor is the next step).
public final class Broker: Sendable {
    public let config: BrokerConfig
    public let manager: LogManager
    public let clusterId: String
    let producerIds: ProducerIds
    let fetchWaiters = FetchWaiters()
    /// The broker's own file access (meta.properties, producer ids, segment files for fetches),
    /// through the storage I/O seam.
    let io: any FileIO
    let logger = Logger(label: "petrel.broker")
    /// Topic name → partition count and topic id.
    private let topics = Mutex<[String: TopicInfo]>([:])
    /// Topic name → config overrides (CreateTopics' configs), persisted in `topic-configs`.
    private let overrides: Mutex<[String: [String: String]]>
    private let topicConfigFile: TopicConfigFile
    /// Serialises topic creation, growth and deletion: two concurrent auto-creations of one
    /// topic must not draw two topic ids.
    private let topicChanges = Mutex<Void>(())
    /// Requests being handled, and whether new ones are taken: shutdown stops taking them and
    /// waits for these before it closes the logs.
    private let requestsInFlight = DispatchGroup()
    private let acceptingWork = Atomic<Bool>(true)
    /// What start-up recovery did, for metrics: logs cut, and bytes moved to quarantine.
    public let recoveryCounters: RecoveryCounters

    public struct RecoveryCounters: Sendable, Equatable {
        public var logsRecovered = 0
        public var segmentsScanned = 0
        public var quarantinedFiles = 0
        public var quarantinedBytes = 0
        public var removedFiles = 0
    }

    struct TopicInfo: Sendable {
        var partitions: Int32
        var topicId: [UInt8]
    }

    public init(config: BrokerConfig, io: any FileIO = SystemFileIO()) throws {
        var limit = rlimit()
        let descriptorsMax = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        let (fitted, lowered) = try config.validated().fitted(toDescriptors: descriptorsMax)
        self.config = fitted
        for change in lowered {
            logger.warning("lowered \(change) to fit the file-descriptor limit (ulimit -n \(descriptorsMax))")
        }
        self.io = io
        // A new data directory is made by the LogManager (with its parent fsynced); until then
        // the topic-configs file simply does not exist.
        topicConfigFile = TopicConfigFile(directory: config.dataDirectory, io: io)
        let stored = try topicConfigFile.read()
        var logConfigs: [String: LogConfig] = [:]
        for (topic, configs) in stored {
            do { logConfigs[topic] = try TopicConfigs.logConfig(configs, base: config.log) } catch {
                throw StorageError(.corrupt(reason: "topic \(topic): \(error.message)"), path: topicConfigFile.path)
            }
        }
        overrides = Mutex(stored)
        let defaultLog = config.log
        manager = try LogManager(dataDirectory: config.dataDirectory, defaultConfig: config.log, io: io,
                                 configForTopic: { logConfigs[$0] ?? defaultLog })
        clusterId = try ClusterMetadataFile.loadOrCreateClusterId(directory: config.dataDirectory, nodeId: config.nodeId, io: io)
        producerIds = try ProducerIds(directory: config.dataDirectory, io: io)
        recoveryCounters = Self.logRecovery(manager, logger: logger)
        var known: [String: TopicInfo] = [:]
        for partition in manager.partitions {
            let directory = "\(config.dataDirectory)/\(partition.directoryName)"
            let topicId = try PartitionMetadataFile(directory: directory, io: io).read()
            var info = known[partition.topic] ?? TopicInfo(partitions: 0, topicId: topicId ?? [UInt8](repeating: 0, count: 16))
            info.partitions = max(info.partitions, partition.partition + 1)
            known[partition.topic] = info
        }
        topics.withLock { $0 = known }
        manager.startBackgroundTasks(retentionCheckIntervalMs: config.retentionCheckIntervalMs)
    }

    /// Logs every action start-up recovery took, so that an operator learns that a log was cut
    /// (and where its bytes went) from the broker, not from a consumer's missing records.
    static func logRecovery(_ manager: LogManager, logger: Logger) -> RecoveryCounters {
        var counters = RecoveryCounters()
        if !manager.hadCleanShutdown && !manager.partitions.isEmpty {
            logger.warning("no clean-shutdown marker in \(manager.dataDirectory): recovering logs from their recovery points")
        }
        for entry in manager.skippedEntries {
            logger.warning("skipped \(manager.dataDirectory)/\(entry.name): \(entry.reason)")
        }
        for (partition, report) in manager.recoveryReports.sorted(by: { $0.key < $1.key }) {
            let log = manager.log(for: partition)
            let offsets = "log start offset \(log?.logStartOffset ?? -1), log end offset \(log?.logEndOffset ?? -1)"
            if !report.segmentsRecovered.isEmpty {
                counters.logsRecovered += 1
                counters.segmentsScanned += report.segmentsRecovered.count
                logger.info("recovered \(partition): scanned segments at base offsets \(report.segmentsRecovered); \(offsets)")
            }
            for cut in report.quarantined {
                counters.quarantinedFiles += 1
                counters.quarantinedBytes += cut.bytes
                logger.error("recovery of \(partition) cut \(cut.bytes) bytes (\(cut.reason)); they are kept in \(cut.path); \(offsets)")
            }
            for file in report.removedFiles {
                counters.removedFiles += 1
                logger.info("recovery of \(partition) removed leftover file \(file)")
            }
        }
        return counters
    }

    /// Flushes every log, writes checkpoints and the clean-shutdown marker.
    public func close() throws { try manager.close() }

    // MARK: Work in flight

    /// Starts handling a request, unless shutdown has begun (then nil: the connection is closing).
    func startRequest(frame: [UInt8]) -> Task<BrokerResponse?, any Error>? {
        requestsInFlight.enter()
        guard acceptingWork.load(ordering: .acquiring) else {
            requestsInFlight.leave()
            return nil
        }
        return Task { [self] in
            defer { requestsInFlight.leave() }
            return try await handle(frame: frame)
        }
    }

    /// Shutdown's first step: requests arriving from now on are not handled, and long work in
    /// flight (topic creation) stops at its next partition.
    public func stopAcceptingWork() { acceptingWork.store(false, ordering: .releasing) }

    var isStopping: Bool { !acceptingWork.load(ordering: .acquiring) }

    /// Waits for the requests being handled to finish (they were cancelled, or stop on their own).
    public func waitForRequestsInFlight() { requestsInFlight.wait() }

    // MARK: Topics

    func topicInfo(_ name: String) -> TopicInfo? { topics.withLock { $0[name] } }

    func topicOverrides(_ name: String) -> [String: String] { overrides.withLock { $0[name] ?? [:] } }

    /// The log settings of a topic's partitions: its overrides over the broker's.
    func logConfig(forTopic name: String) -> LogConfig {
        let topicOverrides = topicOverrides(name)
        guard !topicOverrides.isEmpty else { return config.log }
        do { return try TopicConfigs.logConfig(topicOverrides, base: config.log) } catch {
            preconditionFailure("stored overrides of topic \(name) were validated when stored: \(error)")
        }
    }

    var partitionCount: Int { topics.withLock { $0.values.reduce(0) { $0 + Int($1.partitions) } } }

    /// Why a topic change was refused.
    struct TopicChangeError: Error, CustomStringConvertible {
        let code: ErrorCode
        let message: String
        var description: String { message }
    }

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
    func createTopic(_ name: String, partitions: Int32, configs: [String: String] = [:]) throws -> TopicInfo {
        try topicChanges.withLock { _ throws -> TopicInfo in
            if let existing = topicInfo(name) { return existing }
            try checkPartitionBudget(adding: Int(partitions))
            let logConfig = try TopicConfigs.logConfig(configs, base: config.log)
            // The overrides are durable before any partition exists: a restart never opens a
            // partition of this topic with the broker's defaults instead.
            try setOverrides(configs, of: name)
            var generator = SystemRandomNumberGenerator()
            let topicId = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do { try createPartitions(of: name, range: 0..<partitions, topicId: topicId, config: logConfig) } catch {
                try? setOverrides([:], of: name)
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
            guard let info = topicInfo(name) else { throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)") }
            guard count > info.partitions else { return }
            try checkPartitionBudget(adding: Int(count - info.partitions))
            try createPartitions(of: name, range: info.partitions..<count, topicId: info.topicId, config: logConfig(forTopic: name))
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
                guard !isStopping, !Task.isCancelled else {
                    throw TopicChangeError(code: .requestTimedOut, message: "the broker is shutting down")
                }
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
    func deleteTopic(_ name: String) throws {
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
        do { return .success(try createTopic(name, partitions: config.numPartitions)) } catch let error as TopicChangeError {
            logger.warning("auto-creating topic \(name) was refused: \(error)")
            return .failure(error)
        } catch {
            logger.error("auto-creating topic \(name) failed: \(error)")
            return .failure(TopicChangeError(code: .kafkaStorageError, message: "\(error)"))
        }
    }

    func log(_ topic: String, _ partition: Int32) -> Log? {
        guard partition >= 0, TopicPartition.isValidTopicName(topic) else { return nil }
        return manager.log(for: TopicPartition(topic: topic, partition: partition))
    }

    var advertisedHost: String { config.advertisedHost ?? config.host }
    var advertisedPort: Int32 { Int32(config.advertisedPort ?? config.port) }
}
