import Logging
import PetrelStorage
import Synchronization

/// The metadata of a single node, in its data directory: `meta.properties` (the cluster id),
/// `topics` (every topic's record) and `producer-id-block`, each written atomically (temporary
/// file, fsync, rename, directory fsync) on every change, parsed by the code fsck uses, and
/// refused at start-up when it does not parse.
///
/// A data directory from before the `topics` file (partition directories and a `topic-configs`
/// file) is adopted once: its records are built from the partitions' `partition.metadata` and
/// the old overrides, written to `topics`, and `topic-configs` is removed.
final class LocalMetadataStore: MetadataStore {
    let clusterId: String
    private let directory: String
    private let io: any FileIO
    private let producerIds: ProducerIds
    private let records: Locked<[String: BrokerStateFiles.TopicRecord]>
    private let dynamicConfigs: Locked<BrokerStateFiles.DynamicBrokerConfigs>

    var topicsPath: String { "\(directory)/\(BrokerStateFiles.topicsName)" }

    /// Opens the store of `directory`, whose partitions (as the log manager found them) adopt a
    /// directory written before the `topics` file existed.
    init(directory: String, nodeId: Int32, io: any FileIO, partitionsOnDisk: [TopicPartition], logger: Logger) throws(StorageError) {
        self.directory = directory
        self.io = io
        clusterId = try ClusterMetadataFile.loadOrCreateClusterId(directory: directory, nodeId: nodeId, io: io)
        producerIds = try ProducerIds(directory: directory, io: io)
        let path = "\(directory)/\(BrokerStateFiles.topicsName)"
        var stored: [BrokerStateFiles.TopicRecord]
        if io.exists(path) {
            stored = try BrokerStateFiles.topics(parsing: io.readSmallFile(path, bytesMax: 64 << 20), path: path)
        } else {
            stored = try Self.adopted(directory: directory, io: io, partitionsOnDisk: partitionsOnDisk)
            if !stored.isEmpty || io.exists("\(directory)/\(BrokerStateFiles.topicConfigsName)") {
                logger.info("adopting \(stored.count) topics of \(directory) into \(BrokerStateFiles.topicsName)")
                try io.writeFileAtomically(path, bytes: BrokerStateFiles.encode(topics: stored))
                let legacy = "\(directory)/\(BrokerStateFiles.topicConfigsName)"
                if io.exists(legacy) { try io.unlink(legacy) }
            }
        }
        records = Locked(Dictionary(uniqueKeysWithValues: stored.map { ($0.name, $0) }))
        dynamicConfigs = Locked(try Self.storedBrokerConfigs(directory: directory, io: io))
    }

    /// The broker settings altered at run time, read before the logs are opened.
    static func storedBrokerConfigs(directory: String, io: any FileIO) throws(StorageError) -> BrokerStateFiles.DynamicBrokerConfigs {
        let path = "\(directory)/\(BrokerStateFiles.brokerConfigsName)"
        guard io.exists(path) else { return BrokerStateFiles.DynamicBrokerConfigs() }
        return try BrokerStateFiles.brokerConfigs(parsing: io.readSmallFile(path, bytesMax: 1 << 20), path: path)
    }

    func brokerConfigs() -> BrokerStateFiles.DynamicBrokerConfigs { dynamicConfigs.withLock { $0 } }

    func put(brokerConfigs configs: BrokerStateFiles.DynamicBrokerConfigs) throws(StorageError) {
        try dynamicConfigs.withLock { (current) throws(StorageError) in
            guard configs != current else { return }
            try io.writeFileAtomically("\(directory)/\(BrokerStateFiles.brokerConfigsName)", bytes: BrokerStateFiles.encode(brokerConfigs: configs))
            current = configs
        }
    }

    /// Records for partition directories and the old `topic-configs` overrides.
    private static func adopted(directory: String, io: any FileIO, partitionsOnDisk: [TopicPartition]) throws(StorageError) -> [BrokerStateFiles.TopicRecord] {
        let overrides = try TopicConfigFile(directory: directory, io: io).read()
        var records: [String: BrokerStateFiles.TopicRecord] = [:]
        for partition in partitionsOnDisk {
            let topicId = try PartitionMetadataFile(directory: "\(directory)/\(partition.directoryName)", io: io).read()
            var record = records[partition.topic] ?? BrokerStateFiles.TopicRecord(
                name: partition.topic, topicId: topicId ?? [UInt8](repeating: 0, count: 16), partitions: 0,
                isInternal: partition.topic.hasPrefix("__"), configs: overrides[partition.topic] ?? [:])
            record.partitions = max(record.partitions, partition.partition + 1)
            records[partition.topic] = record
        }
        return records.values.sorted { $0.name < $1.name }
    }

    /// The stored config overrides per topic, read before the logs are opened (so that none
    /// opens with the broker's defaults instead): from `topics`, or from a directory's old
    /// `topic-configs`.
    static func storedConfigs(directory: String, io: any FileIO) throws(StorageError) -> [String: [String: String]] {
        let path = "\(directory)/\(BrokerStateFiles.topicsName)"
        guard io.exists(path) else { return try TopicConfigFile(directory: directory, io: io).read() }
        let records = try BrokerStateFiles.topics(parsing: io.readSmallFile(path, bytesMax: 64 << 20), path: path)
        return Dictionary(uniqueKeysWithValues: records.map { ($0.name, $0.configs) })
    }

    func topics() -> [BrokerStateFiles.TopicRecord] { records.withLock { $0.values.sorted { $0.name < $1.name } } }

    func put(_ record: BrokerStateFiles.TopicRecord) throws(StorageError) {
        try change { $0[record.name] = record }
    }

    func remove(topic name: String) throws(StorageError) {
        try change { $0.removeValue(forKey: name) }
    }

    /// Applies `edit` durably: the file is rewritten first, memory follows once it is.
    private func change(_ edit: (inout [String: BrokerStateFiles.TopicRecord]) -> Void) throws(StorageError) {
        try records.withLock { (records) throws(StorageError) in
            var changed = records
            edit(&changed)
            guard changed != records else { return }
            try io.writeFileAtomically(topicsPath, bytes: BrokerStateFiles.encode(topics: Array(changed.values)))
            records = changed
        }
    }

    func nextProducerId() throws(StorageError) -> Int64 { try producerIds.next() }
}
