import PetrelProtocol
import PetrelStorage

extension TopicRegistry {
    /// A topic as a CreateTopics request asks for it.
    struct RequestedTopic: Sendable {
        var name: String
        /// -1: the broker's `num.partitions`.
        var numPartitions: Int32
        /// -1: the broker's default.
        var replicationFactor: Int16
        /// Manual assignments: partition index → broker ids.
        var assignments: [(partition: Int32, brokerIds: [Int32])]
        var configs: [(name: String, value: String?)]
    }

    /// A topic that may be created: its partition count and config overrides.
    struct TopicSpec: Sendable, Equatable {
        var partitions: Int32
        var configs: [String: String]
    }

    /// Checks a requested topic: its name, a partition count or manual assignments (each
    /// partition on this broker alone, 0..<n each once), replication factor 1, and configs that
    /// parse and fit their ranges.
    func validate(_ topic: RequestedTopic, default config: BrokerConfig) throws(TopicChangeError) -> TopicSpec {
        func refused(_ code: ErrorCode, _ message: String) -> TopicChangeError { TopicChangeError(code: code, message: message) }
        guard TopicPartition.isValidTopicName(topic.name) else { throw refused(.invalidTopicException, "invalid topic name") }
        let partitions: Int32
        if topic.assignments.isEmpty {
            partitions = topic.numPartitions == -1 ? config.numPartitions : topic.numPartitions
            guard partitions > 0 else { throw refused(.invalidPartitions, "partitions must be positive") }
            guard topic.replicationFactor == -1 || topic.replicationFactor == 1 else {
                throw refused(.invalidReplicationFactor, "a single node holds one replica")
            }
        } else {
            guard topic.numPartitions == -1, topic.replicationFactor == -1 else {
                throw refused(.invalidRequest, "both numPartitions or replicationFactor and manual assignments were given")
            }
            let indexes = topic.assignments.map(\.partition).sorted()
            guard indexes == Array(0..<Int32(indexes.count)) else {
                throw refused(.invalidPartitions, "assignments must name partitions 0 to \(indexes.count - 1), each once")
            }
            for assignment in topic.assignments where assignment.brokerIds != [config.nodeId] {
                throw refused(.invalidReplicaAssignment, "partition \(assignment.partition) is assigned to brokers \(assignment.brokerIds); this cluster has only broker \(config.nodeId)")
            }
            partitions = Int32(indexes.count)
        }
        var overrides: [String: String] = [:]
        for entry in topic.configs {
            guard let value = entry.value else { throw refused(.invalidConfig, "config \(entry.name) has a null value") }
            guard !value.contains("\n"), !value.contains("\r") else { throw refused(.invalidConfig, "config \(entry.name) has a line break in its value") }
            overrides[entry.name] = value
        }
        do throws(TopicConfigs.Invalid) { _ = try TopicConfigs.logConfig(overrides, base: logDefaults) } catch {
            throw refused(.invalidConfig, error.message)
        }
        return TopicSpec(partitions: partitions, configs: overrides)
    }
}
