import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Topics

    func createTopics(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        CreateTopicsResponse(topics: request.topics.map { topic in
            let partitions = topic.numPartitions == -1 ? config.numPartitions : topic.numPartitions
            guard TopicPartition.isValidTopicName(topic.name) else {
                return .init(name: topic.name, errorCode: .invalidTopicException, errorMessage: "invalid topic name")
            }
            guard partitions > 0 else { return .init(name: topic.name, errorCode: .invalidPartitions, errorMessage: "partitions must be positive") }
            guard topic.replicationFactor == -1 || topic.replicationFactor == 1 else {
                return .init(name: topic.name, errorCode: .invalidReplicationFactor, errorMessage: "a single node holds one replica")
            }
            guard topicInfo(topic.name) == nil else {
                return .init(name: topic.name, errorCode: .topicAlreadyExists, errorMessage: "topic \(topic.name) already exists")
            }
            if !request.validateOnly {
                do { try createTopic(topic.name, partitions: partitions) } catch {
                    return .init(name: topic.name, errorCode: .kafkaStorageError, errorMessage: "\(error)")
                }
            }
            return .init(name: topic.name, errorCode: .none, numPartitions: partitions, replicationFactor: 1)
        })
    }

    func deleteTopics(_ request: DeleteTopicsRequest) -> DeleteTopicsResponse {
        DeleteTopicsResponse(results: request.topicNames.map { name in
            guard topicInfo(name) != nil else { return (name, .unknownTopicOrPartition) }
            do { try deleteTopic(name) } catch { return (name, .kafkaStorageError) }
            return (name, .none)
        })
    }

    func createPartitions(_ request: CreatePartitionsRequest) -> CreatePartitionsResponse {
        CreatePartitionsResponse(results: request.topics.map { topic in
            guard let info = topicInfo(topic.name) else { return (topic.name, .unknownTopicOrPartition, "no topic \(topic.name)") }
            guard topic.count > info.partitions else {
                return (topic.name, .invalidPartitions, "topic \(topic.name) has \(info.partitions) partitions; the count can only grow")
            }
            if !request.validateOnly {
                do { try addPartitions(topic.name, count: topic.count) } catch { return (topic.name, .kafkaStorageError, "\(error)") }
            }
            return (topic.name, .none, nil)
        })
    }

    /// Topic settings as Kafka names them, from the log configuration every log uses.
    var topicConfigs: [DescribeConfigsResponse.Config] {
        let log = config.log
        var flushMessages = "9223372036854775807", flushMs = "9223372036854775807"
        switch log.flushPolicy {
        case .beforeAcknowledge: flushMessages = "1"
        case let .interval(messages, milliseconds): (flushMessages, flushMs) = (String(messages), String(milliseconds))
        }
        return [
            .init(name: "cleanup.policy", value: "delete", type: 7),
            .init(name: "compression.type", value: "producer"),
            .init(name: "flush.messages", value: flushMessages, type: 5),
            .init(name: "flush.ms", value: flushMs, type: 5),
            .init(name: "index.interval.bytes", value: String(log.indexIntervalBytes), type: 3),
            .init(name: "max.message.bytes", value: String(log.maxMessageBytes), type: 3),
            .init(name: "message.timestamp.type", value: "CreateTime"),
            .init(name: "retention.bytes", value: String(log.retentionBytes), type: 5),
            .init(name: "retention.ms", value: String(log.retentionMs), type: 5),
            .init(name: "segment.bytes", value: String(log.segmentBytes), type: 3),
            .init(name: "segment.index.bytes", value: String(log.segmentIndexBytes), type: 3),
            .init(name: "segment.ms", value: String(log.segmentMs), type: 5),
        ]
    }

    func describeConfigs(_ request: DescribeConfigsRequest) -> DescribeConfigsResponse {
        DescribeConfigsResponse(results: request.resources.map { resource in
            var configs: [DescribeConfigsResponse.Config]
            switch resource.resourceType {
            case DescribeConfigsRequest.topicResource:
                guard topicInfo(resource.resourceName) != nil else {
                    return .init(errorCode: .unknownTopicOrPartition, errorMessage: "no topic \(resource.resourceName)",
                                 resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [])
                }
                configs = topicConfigs
            case DescribeConfigsRequest.brokerResource:
                configs = [
                    .init(name: "log.dirs", value: config.dataDirectory, readOnly: true, source: 4),
                    .init(name: "num.partitions", value: String(config.numPartitions), readOnly: true, source: 4, type: 3),
                    .init(name: "auto.create.topics.enable", value: String(config.autoCreateTopics), readOnly: true, source: 4, type: 1),
                    .init(name: "message.max.bytes", value: String(config.log.maxMessageBytes), readOnly: true, source: 4, type: 3),
                    .init(name: "socket.request.max.bytes", value: String(config.requestBytesMax), readOnly: true, source: 4, type: 3),
                ]
            default:
                return .init(errorCode: .invalidRequest, errorMessage: "resource type \(resource.resourceType) is not supported",
                             resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [])
            }
            if let keys = resource.configurationKeys { configs = configs.filter { keys.contains($0.name) } }
            return .init(errorCode: .none, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: configs)
        })
    }

    /// A single node has one leader epoch, 0, which ends at the log end offset.
    func offsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            (topic.topic, topic.partitions.map { partition in
                guard let log = log(topic.topic, partition.partition) else {
                    return .init(errorCode: .unknownTopicOrPartition, partition: partition.partition, leaderEpoch: -1, endOffset: -1)
                }
                return .init(errorCode: .none, partition: partition.partition, leaderEpoch: 0, endOffset: log.logEndOffset)
            })
        })
    }
}
