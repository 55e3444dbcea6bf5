import Dispatch
import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
public import PetrelStorage
import Synchronization

/// A single-node Kafka-compatible broker over PetrelStorage: decodes a request frame, does the
/// work and encodes the response. The network layer (`BrokerServer`) only frames bytes.
///
/// Blocking storage work goes through `executor`, never the cooperative pool or an event loop.
public final class Broker: Sendable {
    public let config: BrokerConfig
    public let manager: LogManager
    public let clusterId: String
    let producerIds: ProducerIds
    let topics: TopicRegistry
    let executor: StorageExecutor
    let purgatory: Purgatory
    let replicaManager: ReplicaManager
    /// The broker's own file access (meta.properties, producer ids, segment files for fetches),
    /// through the storage I/O seam.
    let io: any FileIO
    let logger = Logger(label: "petrel.broker")
    /// Requests being handled, and whether new ones are taken: shutdown stops taking them and
    /// waits for these before it closes the logs.
    private let requestsInFlight = DispatchGroup()
    private let workGate = WorkGate()
    /// What start-up recovery did, for metrics: logs cut, and bytes moved to quarantine.
    public let recoveryCounters: RecoveryCounters

    public struct RecoveryCounters: Sendable, Equatable {
        public var logsRecovered = 0
        public var segmentsScanned = 0
        public var quarantinedFiles = 0
        public var quarantinedBytes = 0
        public var removedFiles = 0
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
        let topicConfigFile = TopicConfigFile(directory: config.dataDirectory, io: io)
        let (overrides, logConfigs) = try TopicRegistry.storedLogConfigs(topicConfigFile, base: config.log)
        let defaultLog = config.log
        manager = try LogManager(dataDirectory: config.dataDirectory, defaultConfig: config.log, io: io,
                                 configForTopic: { logConfigs[$0] ?? defaultLog })
        clusterId = try ClusterMetadataFile.loadOrCreateClusterId(directory: config.dataDirectory, nodeId: config.nodeId, io: io)
        producerIds = try ProducerIds(directory: config.dataDirectory, io: io)
        recoveryCounters = Self.logRecovery(manager, logger: logger)
        let gate = workGate
        topics = try TopicRegistry(config: fitted, manager: manager, topicConfigFile: topicConfigFile, overrides: overrides, io: io,
                                   logger: logger, isStopping: { gate.isStopping || Task.isCancelled })
        executor = StorageExecutor(threads: fitted.storageThreads, queuedJobsMax: fitted.storageQueuedJobsMax)
        purgatory = Purgatory()
        replicaManager = ReplicaManager(manager: manager, executor: executor, purgatory: purgatory, io: io,
                                        fetchBytesMax: fitted.fetchBytesMax, fetchWaitMsMax: fitted.fetchWaitMsMax)
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
    public func close() throws {
        executor.shutdown()
        try manager.close()
    }

    // MARK: Work in flight

    /// Starts handling a request, unless shutdown has begun (then nil: the connection is closing).
    func startRequest(frame: [UInt8]) -> Task<BrokerResponse?, any Error>? {
        requestsInFlight.enter()
        guard !workGate.isStopping else {
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
    public func stopAcceptingWork() { workGate.stop() }

    var isStopping: Bool { workGate.isStopping }

    /// Whether new work is taken: shared with the parts that stop long work at shutdown.
    final class WorkGate: Sendable {
        private let accepting = Atomic<Bool>(true)
        var isStopping: Bool { !accepting.load(ordering: .acquiring) }
        func stop() { accepting.store(false, ordering: .releasing) }
    }

    /// Waits for the requests being handled to finish (they were cancelled, or stop on their own).
    public func waitForRequestsInFlight() { requestsInFlight.wait() }

    var advertisedHost: String { config.advertisedHost ?? config.host }
    var advertisedPort: Int32 { Int32(config.advertisedPort ?? config.port) }
}
