import Dispatch
import Foundation
import Logging
public import PetrelCoordinator
import PetrelFormat
public import PetrelProtocol
public import PetrelStorage
import Synchronization

/// A single-node Kafka-compatible broker over PetrelStorage: the composition root. It opens the
/// logs and the broker's state, builds the parts — storage executor, purgatory, replica
/// manager, topic registry — and registers a handler per API with the request router. The
/// network layer (`BrokerServer`) only frames bytes; handlers decode, call and encode.
///
/// Blocking storage work goes through `executor`, never the cooperative pool or an event loop.
public final class Broker: Sendable {
    public let config: BrokerConfig
    public let manager: LogManager
    public let clusterId: String
    let store: any MetadataStore
    let topics: TopicRegistry
    /// The broker's settings, static and altered at run time.
    let settings: BrokerSettings
    let executor: StorageExecutor
    let purgatory: Purgatory
    let replicaManager: ReplicaManager
    let router: RequestRouter
    /// How coordinators reach their internal topics.
    let partitionWriter: BrokerPartitionWriter
    /// Consumer groups and their committed offsets.
    public let groups: GroupCoordinator
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

    public init(config: BrokerConfig, io: any FileIO = SystemFileIO()) throws {
        var limit = rlimit()
        let descriptorsMax = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        let (fitted, lowered) = try config.validated().fitted(toDescriptors: descriptorsMax)
        self.config = fitted
        for change in lowered {
            logger.warning("lowered \(change) to fit the file-descriptor limit (ulimit -n \(descriptorsMax))")
        }
        self.io = io
        // The topics' overrides are read before any log opens, so that none opens with the
        // broker's defaults instead. A new data directory is made by the LogManager (with its
        // parent fsynced); until then the metadata files simply do not exist.
        let storedConfigs = try LocalMetadataStore.storedConfigs(directory: config.dataDirectory, io: io)
        // So are the broker settings altered at run time: the logs open with them too.
        let running = try DynamicBrokerSettings.effective(fitted, LocalMetadataStore.storedBrokerConfigs(directory: config.dataDirectory, io: io))
        var logConfigs: [String: LogConfig] = [:]
        for (topic, configs) in storedConfigs {
            do { logConfigs[topic] = try TopicConfigs.logConfig(configs, base: running.log) } catch {
                throw StorageError(.corrupt(reason: "topic \(topic): \(error.message)"), path: "\(config.dataDirectory)/\(BrokerStateFiles.topicsName)")
            }
        }
        let defaultLog = running.log
        manager = try LogManager(dataDirectory: config.dataDirectory, defaultConfig: running.log, io: io,
                                 configForTopic: { logConfigs[$0] ?? defaultLog })
        recoveryCounters = Self.logRecovery(manager, logger: logger)
        store = try LocalMetadataStore(directory: config.dataDirectory, nodeId: config.nodeId, io: io, partitionsOnDisk: manager.partitions, logger: logger)
        clusterId = store.clusterId
        let gate = workGate
        settings = try BrokerSettings(staticConfig: fitted, store: store)
        topics = try TopicRegistry(config: running, manager: manager, store: store, io: io, logger: logger,
                                   isStopping: { gate.isStopping || Task.isCancelled })
        executor = StorageExecutor(threads: fitted.storageThreads, queuedJobsMax: fitted.storageQueuedJobsMax)
        purgatory = Purgatory()
        replicaManager = ReplicaManager(manager: manager, executor: executor, purgatory: purgatory,
                                        fetchBytesMax: fitted.fetchBytesMax, fetchWaitMsMax: fitted.fetchWaitMsMax)
        let writer = BrokerPartitionWriter(replicaManager: replicaManager, topics: topics)
        partitionWriter = writer
        topics.whenPartitionsCreated { writer.elected($1, of: $0) }
        groups = GroupCoordinator(config: fitted.groups, scheduler: TaskScheduler(), writer: writer)
        let offsetsTopic = OffsetsTopic(name: fitted.groups.offsetsTopic, partitions: fitted.groups.offsetsTopicPartitions, topics: topics,
                                        executor: executor, logger: logger)
        router = RequestRouter(handlers: Self.handlers(config: fitted, settings: settings, clusterId: clusterId, topics: topics, executor: executor,
                                                       replicaManager: replicaManager, store: store, logger: logger)
                               + Self.groupHandlers(groups: groups, offsetsTopic: offsetsTopic, topics: topics, node: Self.node(config: fitted, clusterId: clusterId)))
        try offsetsTopic.compactIfMadeBeforeCompaction()
        manager.startBackgroundTasks(retentionCheckIntervalMs: config.retentionCheckIntervalMs)
        try manager.startCleaner(config: running.cleaner)
    }

    /// The consumer-group APIs, served by the group coordinator.
    static func groupHandlers(groups: GroupCoordinator, offsetsTopic: OffsetsTopic, topics: TopicRegistry, node: BrokerNode) -> [any RequestHandler] {
        [
            FindCoordinatorHandler(offsetsTopic: offsetsTopic, node: node),
            JoinGroupHandler(groups: groups),
            SyncGroupHandler(groups: groups),
            HeartbeatHandler(groups: groups),
            LeaveGroupHandler(groups: groups),
            OffsetCommitHandler(groups: groups, topics: topics),
            OffsetFetchHandler(groups: groups),
            ListGroupsHandler(groups: groups),
            DescribeGroupsHandler(groups: groups),
            DeleteGroupsHandler(groups: groups),
            OffsetDeleteHandler(groups: groups, topics: topics),
        ]
    }

    /// This broker as Metadata and FindCoordinator name it.
    static func node(config: BrokerConfig, clusterId: String) -> BrokerNode {
        BrokerNode(nodeId: config.nodeId, host: config.advertisedHost ?? config.host, port: Int32(config.advertisedPort ?? config.port), clusterId: clusterId)
    }

    /// Every API the broker serves, each by its handler.
    static func handlers(config: BrokerConfig, settings: BrokerSettings, clusterId: String, topics: TopicRegistry, executor: StorageExecutor,
                         replicaManager: ReplicaManager, store: any MetadataStore, logger: Logger) -> [any RequestHandler] {
        let node = Self.node(config: config, clusterId: clusterId)
        let descriptions = ConfigDescriptions(settings: settings, topics: topics, advertisedHost: node.host, advertisedPort: node.port)
        return [
            ProduceHandler(topics: topics, replicaManager: replicaManager, executor: executor),
            FetchHandler(replicaManager: replicaManager),
            ListOffsetsHandler(replicaManager: replicaManager, executor: executor),
            MetadataHandler(topics: topics, executor: executor, node: node),
            CreateTopicsHandler(topics: topics, executor: executor, config: config),
            DeleteTopicsHandler(topics: topics, executor: executor, logger: logger),
            InitProducerIdHandler(store: store, executor: executor, logger: logger),
            OffsetForLeaderEpochHandler(replicaManager: replicaManager),
            DescribeConfigsHandler(topics: topics, descriptions: descriptions),
            AlterConfigsHandler(topics: topics, settings: settings, executor: executor),
            IncrementalAlterConfigsHandler(topics: topics, settings: settings, executor: executor, descriptions: descriptions),
            DeleteRecordsHandler(replicaManager: replicaManager, executor: executor, partitionsMax: config.requestPartitionsMax),
            CreatePartitionsHandler(topics: topics, executor: executor),
        ]
    }

    /// Handles one request frame (without its size prefix): the response (header + body,
    /// without the size prefix), or nil when none is due (Produce with acks=0).
    ///
    /// - Throws: `ProtocolError` when the frame is malformed: the caller closes the connection.
    public func handle(frame: [UInt8]) async throws(ProtocolError) -> BrokerResponse? { try await router.route(frame: FrameBytes(copying: frame)) }

    /// Handles one request frame read in place: a produce's records are appended from the
    /// frame's own memory, which the request keeps alive until its appends complete. The
    /// network layer's entry, public for benchmarks and embedders that frame requests themselves.
    ///
    /// - Throws: `ProtocolError` when the frame is malformed: the caller closes the connection.
    public func handle(frame: FrameBytes, clientHost: String = "") async throws(ProtocolError) -> BrokerResponse? {
        try await router.route(frame: frame, clientHost: clientHost)
    }

    /// Flushes every log, writes checkpoints and the clean-shutdown marker.
    public func close() throws {
        executor.shutdown()
        try manager.close()
    }

    // MARK: Work in flight

    /// Starts handling a request, unless shutdown has begun (then nil: the connection is closing).
    func startRequest(frame: FrameBytes, clientHost: String) -> Task<BrokerResponse?, any Error>? {
        requestsInFlight.enter()
        guard !workGate.isStopping else {
            requestsInFlight.leave()
            return nil
        }
        return Task { [self] in
            defer { requestsInFlight.leave() }
            return try await handle(frame: frame, clientHost: clientHost)
        }
    }

    /// Shutdown's first step: requests arriving from now on are not handled, and long work in
    /// flight (topic creation) stops at its next partition.
    public func stopAcceptingWork() {
        workGate.stop()
        // Parked joins and syncs would otherwise hold shutdown up to a rebalance timeout.
        groups.stop()
    }

    /// Whether new work is taken: shared with the parts that stop long work at shutdown.
    final class WorkGate: Sendable {
        private let accepting = Atomic<Bool>(true)
        var isStopping: Bool { !accepting.load(ordering: .acquiring) }
        func stop() { accepting.store(false, ordering: .releasing) }
    }

    /// Waits for the requests being handled to finish (they were cancelled, or stop on their own).
    public func waitForRequestsInFlight() { requestsInFlight.wait() }

    /// Waits, at most `timeoutSeconds`, for the group coordinator's writes that no request
    /// waits for (a group gone empty), so that a clean shutdown keeps them. Blocks the calling
    /// thread: shutdown's, never an event loop's.
    public func waitForCoordinatorWrites(timeoutSeconds: Int = 10) {
        let ended = DispatchSemaphore(value: 0)
        Task { [groups] in
            await groups.metadataWritesEnded()
            ended.signal()
        }
        if ended.wait(timeout: .now() + .seconds(timeoutSeconds)) == .timedOut {
            logger.warning("group metadata writes still on their way after \(timeoutSeconds) s; shutting down without them")
        }
    }
}
