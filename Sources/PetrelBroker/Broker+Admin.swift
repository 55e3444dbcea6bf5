import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Topics

    func createTopics(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        var partitionsInRequest = 0
        return CreateTopicsResponse(topics: request.topics.map { topic in
            func refused(_ code: ErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                .init(name: topic.name, errorCode: code, errorMessage: message, configs: nil)
            }
            guard TopicPartition.isValidTopicName(topic.name) else { return refused(.invalidTopicException, "invalid topic name") }
            let partitions: Int32
            if topic.assignments.isEmpty {
                partitions = topic.numPartitions == -1 ? config.numPartitions : topic.numPartitions
                guard partitions > 0 else { return refused(.invalidPartitions, "partitions must be positive") }
                guard topic.replicationFactor == -1 || topic.replicationFactor == 1 else {
                    return refused(.invalidReplicationFactor, "a single node holds one replica")
                }
            } else {
                // Manual assignments: one entry per partition, 0..<n, each on this broker alone.
                guard topic.numPartitions == -1, topic.replicationFactor == -1 else {
                    return refused(.invalidRequest, "both numPartitions or replicationFactor and manual assignments were given")
                }
                let indexes = topic.assignments.map(\.partitionIndex).sorted()
                guard indexes == Array(0..<Int32(indexes.count)) else {
                    return refused(.invalidPartitions, "assignments must name partitions 0 to \(indexes.count - 1), each once")
                }
                for assignment in topic.assignments where assignment.brokerIds != [config.nodeId] {
                    return refused(.invalidReplicaAssignment, "partition \(assignment.partitionIndex) is assigned to brokers \(assignment.brokerIds); this cluster has only broker \(config.nodeId)")
                }
                partitions = Int32(indexes.count)
            }
            var overrides: [String: String] = [:]
            for entry in topic.configs {
                guard let value = entry.value else { return refused(.invalidConfig, "config \(entry.name) has a null value") }
                overrides[entry.name] = value
            }
            do throws(TopicConfigs.Invalid) { _ = try TopicConfigs.logConfig(overrides, base: config.log) } catch {
                return refused(.invalidConfig, error.message)
            }
            guard topicInfo(topic.name) == nil else { return refused(.topicAlreadyExists, "topic \(topic.name) already exists") }
            do throws(TopicChangeError) { try checkPartitionBudget(adding: Int(partitions), alreadyInRequest: partitionsInRequest) } catch {
                return refused(error.code, error.message)
            }
            partitionsInRequest += Int(partitions)
            if !request.validateOnly {
                do { try createTopic(topic.name, partitions: partitions, configs: overrides) } catch let error as TopicChangeError {
                    return refused(error.code, error.message)
                } catch {
                    return refused(.kafkaStorageError, "\(error)")
                }
            }
            return .init(name: topic.name, errorCode: .none, errorMessage: nil, numPartitions: partitions, replicationFactor: 1, configs: nil)
        })
    }

    func deleteTopics(_ request: DeleteTopicsRequest) -> DeleteTopicsResponse {
        DeleteTopicsResponse(responses: request.topicNames.map { name in
            guard topicInfo(name) != nil else { return .init(name: name, errorCode: .unknownTopicOrPartition) }
            do { try deleteTopic(name) } catch {
                logger.error("deleting topic \(name) failed: \(error)")
                return .init(name: name, errorCode: .kafkaStorageError)
            }
            return .init(name: name, errorCode: .none)
        })
    }

    func createPartitions(_ request: CreatePartitionsRequest) -> CreatePartitionsResponse {
        var partitionsInRequest = 0
        return CreatePartitionsResponse(results: request.topics.map { topic in
            guard let info = topicInfo(topic.name) else { return .init(name: topic.name, errorCode: .unknownTopicOrPartition, errorMessage: "no topic \(topic.name)") }
            guard topic.count > info.partitions else {
                return .init(name: topic.name, errorCode: .invalidPartitions, errorMessage: "topic \(topic.name) has \(info.partitions) partitions; the count can only grow")
            }
            let adding = Int(topic.count - info.partitions)
            do throws(TopicChangeError) { try checkPartitionBudget(adding: adding, alreadyInRequest: partitionsInRequest) } catch {
                return .init(name: topic.name, errorCode: error.code, errorMessage: error.message)
            }
            partitionsInRequest += adding
            if !request.validateOnly {
                do { try addPartitions(topic.name, count: topic.count) } catch let error as TopicChangeError {
                    return .init(name: topic.name, errorCode: error.code, errorMessage: error.message)
                } catch {
                    return .init(name: topic.name, errorCode: .kafkaStorageError, errorMessage: "\(error)")
                }
            }
            return .init(name: topic.name, errorCode: .none, errorMessage: nil)
        })
    }

    /// `flush.messages` and `flush.ms` as Kafka shows them (Long.MAX_VALUE for "never").
    static func flushSettings(_ policy: FlushPolicy) -> (messages: String, milliseconds: String) {
        switch policy {
        case .beforeAcknowledge: ("1", String(Int64.max))
        case let .interval(messages, milliseconds): (String(messages), String(milliseconds))
        }
    }

    /// Topic settings as Kafka names them: the topic's overrides (source 1, DYNAMIC_TOPIC_CONFIG)
    /// over the broker's log settings (source 5, DEFAULT_CONFIG).
    func topicConfigs(_ name: String) -> [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        let overrides = topicOverrides(name)
        let log = logConfig(forTopic: name)
        let (flushMessages, flushMs) = Self.flushSettings(log.flushPolicy)
        let effective: [(String, String, Int8)] = [
            ("cleanup.policy", "delete", 7),
            ("compression.type", "producer", 2),
            ("flush.messages", flushMessages, 5),
            ("flush.ms", flushMs, 5),
            ("index.interval.bytes", String(log.indexIntervalBytes), 3),
            ("max.message.bytes", String(log.maxMessageBytes), 3),
            ("message.timestamp.type", "CreateTime", 2),
            ("min.insync.replicas", "1", 3),
            ("retention.bytes", String(log.retentionBytes), 5),
            ("retention.ms", String(log.retentionMs), 5),
            ("segment.bytes", String(log.segmentBytes), 3),
            ("segment.index.bytes", String(log.segmentIndexBytes), 3),
            ("segment.ms", String(log.segmentMs), 5),
        ]
        var configs = effective.map { name, value, type in
            DescribeConfigsResponse.DescribeConfigsResourceResult(name: name, value: overrides[name] ?? value, configSource: overrides[name] == nil ? 5 : 1,
                                                                  configType: type, documentation: nil)
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) where !effective.contains(where: { $0.0 == name }) {
            configs.append(.init(name: name, value: value, configSource: 1, configType: 2, documentation: nil))
        }
        return configs
    }

    /// Every broker setting, as Kafka names them (source 4, STATIC_BROKER_CONFIG).
    var brokerConfigs: [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        let log = config.log
        let (flushMessages, flushMs) = Self.flushSettings(log.flushPolicy)
        let settings: [(String, String, Int8)] = [
            ("advertised.listeners", "PLAINTEXT://\(advertisedHost):\(advertisedPort)", 7),
            ("auto.create.topics.enable", String(config.autoCreateTopics), 1),
            ("broker.id", String(config.nodeId), 3),
            ("connections.max.idle.ms", String(config.connectionsIdleMsMax), 5),
            ("fetch.max.bytes", String(config.fetchBytesMax), 3),
            ("listeners", "PLAINTEXT://\(config.host):\(config.port)", 7),
            ("log.dirs", config.dataDirectory, 2),
            ("log.flush.interval.messages", flushMessages, 5),
            ("log.flush.interval.ms", flushMs, 5),
            ("log.index.interval.bytes", String(log.indexIntervalBytes), 3),
            ("log.index.size.max.bytes", String(log.segmentIndexBytes), 3),
            ("log.retention.bytes", String(log.retentionBytes), 5),
            ("log.retention.check.interval.ms", String(config.retentionCheckIntervalMs), 5),
            ("log.retention.ms", String(log.retentionMs), 5),
            ("log.roll.ms", String(log.segmentMs), 5),
            ("log.segment.bytes", String(log.segmentBytes), 3),
            ("max.broker.partitions", String(config.brokerPartitionsMax), 3),
            ("max.connections", String(config.connectionsMax), 3),
            ("max.connections.per.ip", String(config.connectionsPerIpMax), 3),
            ("message.max.bytes", String(log.maxMessageBytes), 3),
            ("node.id", String(config.nodeId), 3),
            ("num.partitions", String(config.numPartitions), 3),
            ("petrel.max.partitions.per.request", String(config.requestPartitionsMax), 3),
            ("queued.max.request.bytes", config.queuedRequestBytesMax == Int.max ? "-1" : String(config.queuedRequestBytesMax), 5),
            ("socket.request.max.bytes", String(config.requestBytesMax), 3),
        ]
        // Read-only: no setting can be changed at run time yet (no AlterConfigs).
        return settings.map {
            .init(name: $0.0, value: $0.1, readOnly: true, configSource: config.givenSettings.contains($0.0) ? 4 : 5, configType: $0.2, documentation: nil)
        }
    }

    func describeConfigs(_ request: DescribeConfigsRequest) -> DescribeConfigsResponse {
        DescribeConfigsResponse(results: request.resources.map { resource in
            func failed(_ code: ErrorCode, _ message: String) -> DescribeConfigsResponse.DescribeConfigsResult {
                .init(errorCode: code, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [])
            }
            var configs: [DescribeConfigsResponse.DescribeConfigsResourceResult]
            switch resource.resourceType {
            case DescribeConfigsRequest.topicResource:
                guard topicInfo(resource.resourceName) != nil else { return failed(.unknownTopicOrPartition, "no topic \(resource.resourceName)") }
                configs = topicConfigs(resource.resourceName)
            case DescribeConfigsRequest.brokerResource:
                // An empty name asks for the cluster-wide defaults, which are this broker's.
                guard resource.resourceName.isEmpty || resource.resourceName == String(config.nodeId) else {
                    return failed(.invalidRequest, "unexpected broker id: this is broker \(config.nodeId), the request names \(resource.resourceName)")
                }
                configs = brokerConfigs
            default:
                return failed(.invalidRequest, "resource type \(resource.resourceType) is not supported")
            }
            if let keys = resource.configurationKeys { configs = configs.filter { keys.contains($0.name) } }
            return .init(errorCode: .none, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: configs)
        })
    }

    /// A single node has one leader epoch, 0, which ends at the log end offset.
    func offsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                guard let log = log(topic.topic, partition.partition) else {
                    return .init(errorCode: .unknownTopicOrPartition, partition: partition.partition, leaderEpoch: -1, endOffset: -1)
                }
                return .init(errorCode: .none, partition: partition.partition, leaderEpoch: 0, endOffset: log.logEndOffset)
            })
        })
    }
}
