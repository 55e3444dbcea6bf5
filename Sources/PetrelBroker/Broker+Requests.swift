import Foundation
import Logging
import PetrelFormat
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
        guard let api = header.knownApi, let range = SupportedApis.range(for: api) else {
            throw ProtocolError(.unknownApiKey(header.apiKey), position: 0)
        }
        guard range.contains(header.apiVersion) else {
            if api == .apiVersions {
                // Too new: answer in v0 with our ApiVersions range, so the client retries lower.
                ResponseHeader.write(correlationId: header.correlationId, apiKey: .apiVersions, apiVersion: 0, to: &writer)
                ApiVersionsResponse.unsupportedVersion.write(version: 0, to: &writer)
                return BrokerResponse(bytes: writer.bytes, fileParts: [])
            }
            throw ProtocolError(.unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion), position: 2)
        }
        let version = header.apiVersion
        ResponseHeader.write(correlationId: header.correlationId, apiKey: api, apiVersion: version, to: &writer)
        switch api {
        case .apiVersions:
            _ = try ApiVersionsRequest.read(version: version, from: &reader)
            ApiVersionsResponse().write(version: version, to: &writer)
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
                BrokerResponse.FilePart(position: part.position, lease: files[part.tag], count: part.count)
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

    /// With no authorizer every operation is allowed, so the authorized operations are all the
    /// ones each resource supports (Kafka's `AclOperation` codes as bits), as Kafka answers.
    static let topicAuthorizedOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | 1 << $1 }
    static let clusterAuthorizedOperations: Int32 = [5, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | 1 << $1 }

    func metadata(_ request: MetadataRequest) -> MetadataResponse {
        var names = request.topics?.compactMap(\.name) ?? topicNames()
        names = Array(NSOrderedSet(array: names)) as? [String] ?? names
        var topics: [MetadataResponse.Topic] = []
        let topicOperations = request.includeTopicAuthorizedOperations ? Self.topicAuthorizedOperations : Int32.min
        for name in names {
            guard TopicPartition.isValidTopicName(name) else {
                // INVALID_TOPIC_EXCEPTION: librdkafka then fails the messages at once instead
                // of holding them for message.timeout.ms.
                topics.append(.init(errorCode: .invalidTopicException, name: name, partitions: []))
                continue
            }
            var info = topicInfo(name)
            if info == nil, request.allowAutoTopicCreation, let created = autoCreate(name) {
                switch created {
                case let .success(created): info = created
                case let .failure(error):
                    topics.append(.init(errorCode: error.code, name: name, partitions: []))
                    continue
                }
            }
            guard let info else {
                topics.append(.init(errorCode: .unknownTopicOrPartition, name: name, partitions: []))
                continue
            }
            let partitions = (0..<info.partitions).map {
                MetadataResponse.Partition(partitionIndex: $0, leaderId: config.nodeId, leaderEpoch: 0,
                                           replicaNodes: [config.nodeId], isrNodes: [config.nodeId])
            }
            topics.append(.init(name: name, topicId: info.topicId, partitions: partitions, topicAuthorizedOperations: topicOperations))
        }
        return MetadataResponse(brokers: [.init(nodeId: config.nodeId, host: advertisedHost, port: advertisedPort)],
                                clusterId: clusterId, controllerId: config.nodeId, topics: topics,
                                clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.clusterAuthorizedOperations : Int32.min)
    }

    func topicNames() -> [String] { Set(manager.partitions.map(\.topic)).sorted() }

    // MARK: ListOffsets

    func listOffsets(_ request: ListOffsetsRequest) -> ListOffsetsResponse {
        ListOffsetsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                listOffset(topic: topic.name, partition)
            })
        })
    }

    private func listOffset(topic: String, _ partition: ListOffsetsRequest.Partition) -> ListOffsetsResponse.Partition {
        let index = partition.partitionIndex
        guard let log = log(topic, index) else { return .init(partitionIndex: index, errorCode: .unknownTopicOrPartition) }
        switch partition.timestamp {
        case ListOffsetsRequest.earliestTimestamp:
            return .init(partitionIndex: index, errorCode: .none, timestamp: -1, offset: log.logStartOffset, leaderEpoch: 0)
        case ListOffsetsRequest.latestTimestamp:
            return .init(partitionIndex: index, errorCode: .none, timestamp: -1, offset: log.logEndOffset, leaderEpoch: 0)
        default:
            do {
                let found = partition.timestamp == ListOffsetsRequest.maxTimestamp
                    ? try log.offsetOfMaxTimestamp() : try log.offset(forTimestamp: partition.timestamp)
                guard let found else {
                    return .init(partitionIndex: index, errorCode: .none, timestamp: -1, offset: -1, leaderEpoch: -1)
                }
                return .init(partitionIndex: index, errorCode: .none, timestamp: found.timestamp, offset: found.offset, leaderEpoch: 0)
            } catch {
                logger.error("ListOffsets of \(topic)-\(index) at timestamp \(partition.timestamp) failed: \(error)")
                return .init(partitionIndex: index, errorCode: Self.fetchErrorCode(for: error))
            }
        }
    }
}
