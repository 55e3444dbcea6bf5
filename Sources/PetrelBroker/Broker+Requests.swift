import Foundation
import Logging
public import PetrelFormat
public import PetrelProtocol
import PetrelStorage

extension Broker {
    /// Handles one request frame (without its size prefix). Returns the response (header + body,
    /// without the size prefix), or nil when no response is due (Produce with acks=0).
    ///
    /// - Throws: `ProtocolError` when the frame is malformed: the caller closes the connection.
    public func handle(frame: [UInt8]) async throws(ProtocolError) -> BrokerResponse? {
        var reader = ProtocolReader(frame)
        let header = try RequestHeader.read(from: &reader)
        var writer = ProtocolWriter(reservingCapacity: 1024)
        guard let api = header.knownApi, let range = Self.supportedApis.first(where: { $0.apiKey == api }) else {
            throw ProtocolError(.unknownApiKey(header.apiKey), position: 0)
        }
        guard range.contains(header.apiVersion) else {
            if api == .apiVersions {
                // Too new: answer in v0 with our ApiVersions range, so the client retries lower.
                ResponseHeader.write(correlationId: header.correlationId, apiKey: .apiVersions, apiVersion: 0, to: &writer)
                ApiVersionsResponse(errorCode: .unsupportedVersion, apiKeys: Self.supportedApis.filter { $0.apiKey == .apiVersions })
                    .write(version: 0, to: &writer)
                return BrokerResponse(bytes: writer.bytes, fileParts: [])
            }
            throw ProtocolError(.unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion), position: 2)
        }
        let version = header.apiVersion
        ResponseHeader.write(correlationId: header.correlationId, apiKey: api, apiVersion: version, to: &writer)
        switch api {
        case .apiVersions:
            _ = try ApiVersionsRequest.read(version: version, from: &reader)
            ApiVersionsResponse(apiKeys: Self.supportedApis).write(version: version, to: &writer)
        case .metadata:
            let request = try MetadataRequest.read(version: version, from: &reader)
            metadata(request).write(version: version, to: &writer)
        case .produce:
            let request = try ProduceRequest.read(version: version, from: &reader)
            let response = await produce(request, version: version)
            if request.acks == 0 { return nil }
            response.write(version: version, to: &writer)
        case .fetch:
            let request = try FetchRequest.read(version: version, from: &reader)
            let (response, files) = await fetch(request)
            response.write(version: version, to: &writer)
            // Each external part's tag is the index of its file slice.
            return BrokerResponse(bytes: writer.bytes, fileParts: writer.externalParts.map { part in
                BrokerResponse.FilePart(position: part.position, descriptor: files[part.tag].descriptor,
                                        fileOffset: files[part.tag].offset, count: part.count)
            })
        case .listOffsets:
            let request = try ListOffsetsRequest.read(version: version, from: &reader)
            listOffsets(request).write(version: version, to: &writer)
        case .createTopics:
            let request = try CreateTopicsRequest.read(version: version, from: &reader)
            createTopics(request).write(version: version, to: &writer)
        case .deleteTopics:
            let request = try DeleteTopicsRequest.read(version: version, from: &reader)
            deleteTopics(request).write(version: version, to: &writer)
        case .createPartitions:
            let request = try CreatePartitionsRequest.read(version: version, from: &reader)
            createPartitions(request).write(version: version, to: &writer)
        case .describeConfigs:
            let request = try DescribeConfigsRequest.read(version: version, from: &reader)
            describeConfigs(request).write(version: version, to: &writer)
        case .offsetForLeaderEpoch:
            let request = try OffsetForLeaderEpochRequest.read(version: version, from: &reader)
            offsetForLeaderEpoch(request).write(version: version, to: &writer)
        case .initProducerId:
            let request = try InitProducerIdRequest.read(version: version, from: &reader)
            initProducerId(request).write(version: version, to: &writer)
        default:
            throw ProtocolError(.unknownApiKey(header.apiKey), position: 0)
        }
        return BrokerResponse(bytes: writer.bytes, fileParts: [])
    }

    // MARK: Metadata

    func metadata(_ request: MetadataRequest) -> MetadataResponse {
        var names = request.topics?.compactMap(\.name) ?? topicNames()
        names = Array(NSOrderedSet(array: names)) as? [String] ?? names
        var topics: [MetadataResponse.Topic] = []
        for name in names {
            var info = topicInfo(name)
            if info == nil, config.autoCreateTopics, request.allowAutoTopicCreation, TopicPartition.isValidTopicName(name) {
                info = try? createTopic(name, partitions: config.numPartitions)
            }
            guard let info else {
                topics.append(.init(errorCode: .unknownTopicOrPartition, name: name, partitions: []))
                continue
            }
            let partitions = (0..<info.partitions).map {
                MetadataResponse.Partition(partitionIndex: $0, leaderId: config.nodeId, leaderEpoch: 0,
                                           replicaNodes: [config.nodeId], isrNodes: [config.nodeId])
            }
            topics.append(.init(name: name, topicId: info.topicId, partitions: partitions))
        }
        return MetadataResponse(brokers: [.init(nodeId: config.nodeId, host: advertisedHost, port: advertisedPort)],
                                clusterId: clusterId, controllerId: config.nodeId, topics: topics)
    }

    func topicNames() -> [String] { Set(manager.partitions.map(\.topic)).sorted() }

    // MARK: Produce

    func produce(_ request: ProduceRequest, version: Int16) async -> ProduceResponse {
        var topics: [ProduceResponse.Topic] = []
        for topic in request.topics {
            var partitions: [ProduceResponse.Partition] = []
            for partition in topic.partitions {
                guard version >= 3 else {
                    partitions.append(.init(index: partition.index, errorCode: .unsupportedVersion))
                    continue
                }
                if topicInfo(topic.name) == nil, config.autoCreateTopics, TopicPartition.isValidTopicName(topic.name) {
                    _ = try? createTopic(topic.name, partitions: config.numPartitions)
                }
                guard let log = log(topic.name, partition.index) else {
                    partitions.append(.init(index: partition.index, errorCode: .unknownTopicOrPartition))
                    continue
                }
                guard let records = partition.records, !records.isEmpty else {
                    partitions.append(.init(index: partition.index, errorCode: .corruptMessage, errorMessage: "no records"))
                    continue
                }
                do throws(StorageError) {
                    let info = try await log.append(Array(records))
                    appendWaiters.notifyAll()
                    partitions.append(.init(index: partition.index, errorCode: .none, baseOffset: info.firstOffset,
                                            logStartOffset: log.logStartOffset))
                } catch {
                    partitions.append(.init(index: partition.index, errorCode: Self.errorCode(for: error), errorMessage: "\(error)"))
                    logger.warning("produce to \(topic.name)-\(partition.index) failed: \(error)")
                }
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        return ProduceResponse(topics: topics)
    }

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
            .init(name: "retention.bytes", value: "-1", type: 5),
            .init(name: "retention.ms", value: "-1", type: 5),
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

    // MARK: InitProducerId

    /// Idempotent producers get a fresh id at epoch 0, or their own id with the epoch bumped when
    /// they ask (KIP-360). Transactions are not implemented yet.
    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        guard request.transactionalId == nil else {
            return InitProducerIdResponse(errorCode: .transactionalIdAuthorizationFailed, producerId: -1, producerEpoch: -1)
        }
        if request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < Int16.max {
            return InitProducerIdResponse(producerId: request.producerId, producerEpoch: request.producerEpoch + 1)
        }
        guard let id = try? producerIds.next() else {
            return InitProducerIdResponse(errorCode: .kafkaStorageError, producerId: -1, producerEpoch: -1)
        }
        return InitProducerIdResponse(producerId: id, producerEpoch: 0)
    }

    static func errorCode(for error: StorageError) -> ErrorCode {
        switch error.code {
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .invalidBatch: .corruptMessage
        case .batchTooLarge: .messageTooLarge
        case .invalidAppend: .invalidRecord
        case .offsetOutOfRange: .offsetOutOfRange
        default: .kafkaStorageError
        }
    }

    // MARK: Fetch

    /// A range of a segment file to send as it is, through an open descriptor.
    struct FileSlice {
        let descriptor: Int32
        let offset: Int64
        let count: Int
    }

    /// Reads whole batches for each partition; with less than `minBytes`, waits — woken by the
    /// next append — up to `maxWaitMs`. The batches are not copied: the response names ranges of
    /// segment files, sent with `sendfile`.
    func fetch(_ request: FetchRequest) async -> (FetchResponse, [FileSlice]) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, request.maxWaitMs)) * 1_000_000
        while true {
            let generation = appendWaiters.generation
            let (response, files, bytes, hasError) = readFetch(request)
            let now = DispatchTime.now().uptimeNanoseconds
            if bytes >= Int(max(1, request.minBytes)) || hasError || now >= deadline { return (response, files) }
            for file in files { io.close(file.descriptor) }
            await appendWaiters.wait(after: generation, timeoutNanoseconds: deadline - now)
        }
    }

    private func readFetch(_ request: FetchRequest) -> (FetchResponse, [FileSlice], Int, Bool) {
        var budget = Int(max(0, request.maxBytes))
        var total = 0
        var hasError = false
        var topics: [FetchResponse.Topic] = []
        var files: [FileSlice] = []
        for topic in request.topics {
            var partitions: [FetchResponse.Partition] = []
            for partition in topic.partitions {
                guard let log = log(topic.topic, partition.partition) else {
                    partitions.append(.init(partitionIndex: partition.partition, errorCode: .unknownTopicOrPartition,
                                            highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: nil))
                    hasError = true
                    continue
                }
                let end = log.logEndOffset, start = log.logStartOffset
                guard partition.fetchOffset >= start && partition.fetchOffset <= end else {
                    partitions.append(.init(partitionIndex: partition.partition, errorCode: .offsetOutOfRange,
                                            highWatermark: end, lastStableOffset: end, logStartOffset: start, records: nil))
                    hasError = true
                    continue
                }
                var file: FileSlice?
                if partition.fetchOffset < end {
                    // At least one whole batch for the first partition with data, whatever the bounds.
                    let limit = total == 0 ? max(1, min(Int(partition.partitionMaxBytes), budget)) : min(Int(partition.partitionMaxBytes), budget)
                    if limit > 0 {
                        file = try? log.read(fromOffset: partition.fetchOffset, maxBytes: limit) { slice -> FileSlice? in
                            // The first batch always; later ones only within the limit.
                            guard !slice.bytes.isEmpty, total == 0 || slice.bytes.count <= limit else { return nil }
                            // Opened while the log's read lock holds the segment: the bytes below
                            // its published end are final (only replication truncates).
                            let path = SegmentFiles.logPath(log.directory, slice.segmentBaseOffset)
                            let descriptor = try io.open(path, flags: O_RDONLY, mode: 0)
                            return FileSlice(descriptor: descriptor, offset: Int64(slice.filePosition), count: slice.bytes.count)
                        } ?? nil
                    }
                }
                let count = file?.count ?? 0
                total += count
                budget = max(0, budget - count)
                if let file { files.append(file) }
                partitions.append(.init(partitionIndex: partition.partition, errorCode: .none, highWatermark: end,
                                        lastStableOffset: end, logStartOffset: start, records: file == nil ? [] : nil,
                                        externalRecords: file.map { (files.count - 1, $0.count) }))
            }
            topics.append(.init(name: topic.topic, partitions: partitions))
        }
        return (FetchResponse(topics: topics), files, total, hasError)
    }

    // MARK: ListOffsets

    func listOffsets(_ request: ListOffsetsRequest) -> ListOffsetsResponse {
        ListOffsetsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                guard let log = log(topic.name, partition.partitionIndex) else {
                    return .init(partitionIndex: partition.partitionIndex, errorCode: .unknownTopicOrPartition)
                }
                switch partition.timestamp {
                case ListOffsetsRequest.earliestTimestamp:
                    return .init(partitionIndex: partition.partitionIndex, errorCode: .none, timestamp: -1, offset: log.logStartOffset, leaderEpoch: 0)
                case ListOffsetsRequest.latestTimestamp:
                    return .init(partitionIndex: partition.partitionIndex, errorCode: .none, timestamp: -1, offset: log.logEndOffset, leaderEpoch: 0)
                default:
                    if let found = try? log.offset(forTimestamp: partition.timestamp) {
                        return .init(partitionIndex: partition.partitionIndex, errorCode: .none, timestamp: found.timestamp, offset: found.offset, leaderEpoch: 0)
                    }
                    return .init(partitionIndex: partition.partitionIndex, errorCode: .none, timestamp: -1, offset: -1, leaderEpoch: -1)
                }
            })
        })
    }
}
