import Foundation
import Logging
import PetrelFormat
public import PetrelProtocol
public import PetrelStorage
import Synchronization

/// A single-node Kafka-compatible broker over PetrelStorage: decodes a request frame, does the
/// work (storage calls run on the cooperative pool, never on an event loop) and encodes the
/// response. The network layer (`BrokerServer`) only frames bytes.
public final class Broker: Sendable {
    public let config: BrokerConfig
    public let manager: LogManager
    public let clusterId: String
    let producerIds: ProducerIds
    let appendWaiters = AppendWaiters()
    /// The broker's own file access (segment files for fetches), through the storage I/O seam.
    let io: any FileIO = SystemFileIO()
    let logger = Logger(label: "petrel.broker")
    /// Topic name → partition count and topic id.
    private let topics = Mutex<[String: TopicInfo]>([:])

    struct TopicInfo: Sendable {
        var partitions: Int32
        var topicId: [UInt8]
    }

    public init(config: BrokerConfig) throws {
        self.config = config
        manager = try LogManager(dataDirectory: config.dataDirectory, defaultConfig: config.log)
        manager.startBackgroundTasks(retentionCheckIntervalMs: config.retentionCheckIntervalMs)
        clusterId = try Self.loadOrCreateClusterId(directory: config.dataDirectory, nodeId: config.nodeId)
        producerIds = try ProducerIds(directory: config.dataDirectory)
        var known: [String: TopicInfo] = [:]
        for partition in manager.partitions {
            let topicId = (try? PartitionMetadataFile(directory: "\(config.dataDirectory)/\(partition.directoryName)").read()) ?? nil
            var info = known[partition.topic] ?? TopicInfo(partitions: 0, topicId: topicId ?? [UInt8](repeating: 0, count: 16))
            info.partitions = max(info.partitions, partition.partition + 1)
            known[partition.topic] = info
        }
        topics.withLock { $0 = known }
    }

    /// Flushes every log, writes checkpoints and the clean-shutdown marker.
    public func close() throws { try manager.close() }

    /// `meta.properties` as Kafka writes it; the cluster id survives restarts.
    static func loadOrCreateClusterId(directory: String, nodeId: Int32) throws -> String {
        let path = "\(directory)/meta.properties"
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cluster.id=") }) {
            return String(line.dropFirst("cluster.id=".count))
        }
        var generator = SystemRandomNumberGenerator()
        let id = PartitionMetadataFile.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try SystemFileIO().writeFileAtomically(path, bytes: Array("version=1\ncluster.id=\(id)\nnode.id=\(nodeId)\n".utf8))
        return id
    }

    // MARK: Topics

    func topicInfo(_ name: String) -> TopicInfo? { topics.withLock { $0[name] } }

    /// Creates a topic with `partitions` partitions (idempotent for an existing topic).
    @discardableResult
    func createTopic(_ name: String, partitions: Int32) throws -> TopicInfo {
        if let existing = topicInfo(name) { return existing }
        var generator = SystemRandomNumberGenerator()
        let topicId = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for partition in 0..<partitions {
            let topicPartition = TopicPartition(topic: name, partition: partition)
            if manager.log(for: topicPartition) == nil { try manager.createLog(for: topicPartition, topicId: topicId) }
        }
        let info = TopicInfo(partitions: partitions, topicId: topicId)
        topics.withLock { $0[name] = $0[name] ?? info }
        logger.info("created topic \(name) with \(partitions) partitions")
        return topicInfo(name) ?? info
    }

    /// Grows a topic to `count` partitions.
    func addPartitions(_ name: String, count: Int32) throws {
        guard let info = topicInfo(name) else { throw StorageError(.notFound) }
        for partition in info.partitions..<count {
            let topicPartition = TopicPartition(topic: name, partition: partition)
            if manager.log(for: topicPartition) == nil { try manager.createLog(for: topicPartition, topicId: info.topicId) }
        }
        topics.withLock { topics in
            if var info = topics[name] {
                info.partitions = max(info.partitions, count)
                topics[name] = info
            }
        }
    }

    /// Closes and deletes every partition of a topic.
    func deleteTopic(_ name: String) throws {
        guard let info = topicInfo(name) else { throw StorageError(.notFound) }
        topics.withLock { _ = $0.removeValue(forKey: name) }
        for partition in 0..<info.partitions {
            try? manager.deleteLog(for: TopicPartition(topic: name, partition: partition))
        }
        logger.info("deleted topic \(name)")
    }

    func log(_ topic: String, _ partition: Int32) -> Log? {
        guard partition >= 0, TopicPartition.isValidTopicName(topic) else { return nil }
        return manager.log(for: TopicPartition(topic: topic, partition: partition))
    }

    var advertisedHost: String { config.advertisedHost ?? config.host }
    var advertisedPort: Int32 { Int32(config.advertisedPort ?? config.port) }
}
