import PetrelStorage

/// The one owner of the broker's metadata: the cluster id, the topics (ids, partition counts,
/// config overrides, internal flags, deletions under way) and the producer-id blocks. Every
/// change is durable before it returns. A single node keeps it in a small file family in the
/// data directory (`LocalMetadataStore`); a cluster puts it in etcd behind the same protocol.
protocol MetadataStore: Sendable {
    var clusterId: String { get }

    /// Every topic, live or being deleted.
    func topics() -> [BrokerStateFiles.TopicRecord]

    /// Adds or replaces a topic's record.
    func put(_ record: BrokerStateFiles.TopicRecord) throws(StorageError)

    /// Removes a topic's record (its partitions are gone).
    func remove(topic name: String) throws(StorageError)

    /// The broker settings altered at run time.
    func brokerConfigs() -> BrokerStateFiles.DynamicBrokerConfigs

    /// Replaces the broker settings altered at run time.
    func put(brokerConfigs: BrokerStateFiles.DynamicBrokerConfigs) throws(StorageError)

    /// A producer id never handed out before, even across crashes.
    func nextProducerId() throws(StorageError) -> Int64
}
