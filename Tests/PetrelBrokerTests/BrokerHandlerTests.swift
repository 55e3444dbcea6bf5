import Foundation
@testable import PetrelBroker
import PetrelFormat
import PetrelProtocol
import PetrelStorage
import Testing

/// The handlers in process, through the router, with the generated codecs on both sides: what
/// is advertised is what is routed, and produce, fetch, metadata and offsets behave as a
/// client sees them.
@Suite struct BrokerHandlerTests {
    let directory = BrokerTestDirectory()

    func broker(_ properties: String = "") throws -> Broker {
        var config = BrokerConfig()
        _ = try config.apply(properties: properties)
        config.dataDirectory = directory.path + "/data"
        return try Broker(config: config)
    }

    func batch(_ values: [String]) throws -> [UInt8] {
        var builder = RecordBatchBuilder()
        for (index, value) in values.enumerated() { builder.append(key: nil, value: Array(value.utf8), timestamp: 1_000 + Int64(index)) }
        return try builder.build()
    }

    func produce(_ client: InProcessClient, _ topic: String, _ partitions: [(Int32, [UInt8])], acks: Int16 = 1) async throws -> ProduceResponse {
        try await client.send(ProduceRequest(acks: acks, timeoutMs: 5_000, topicData: [
            .init(name: topic, partitionData: partitions.map { .init(index: $0.0, records: .bytes($0.1[...])) }),
        ]))
    }

    func fetch(_ client: InProcessClient, _ topic: String, partition: Int32, offset: Int64, maxWaitMs: Int32 = 0, minBytes: Int32 = 0) async throws -> FetchResponse {
        try await client.send(FetchRequest(maxWaitMs: maxWaitMs, minBytes: minBytes, maxBytes: 1 << 20, topics: [
            .init(topic: topic, partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 1 << 20)]),
        ]))
    }

    func values(_ records: Records?) throws -> [String] {
        guard let bytes = records?.inlineBytes, !bytes.isEmpty else { return [] }
        return try Array(bytes).withUnsafeBytes { buffer in
            var values: [String] = []
            var position = 0
            while position < buffer.count {
                let batch = try RecordBatch(parsing: UnsafeRawBufferPointer(rebasing: buffer[position...]))
                try batch.forEachRecord { record in values.append(record.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }
                position += batch.sizeBytes
            }
            return values
        }
    }

    @Test func apiVersionsAdvertisesExactlyTheRoutedApis() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        let response: ApiVersionsResponse = try await client.send(ApiVersionsRequest(), version: 3)
        let advertised = response.apiKeys.map { "\($0.apiKey):\($0.minVersion)-\($0.maxVersion)" }
        #expect(advertised == ["0:0-9", "1:4-12", "2:1-7", "3:0-12", "8:2-8", "9:1-8", "10:0-4", "11:0-7", "12:0-4", "13:0-4", "14:0-5",
                               "15:0-5", "16:0-4", "18:0-4", "19:2-5", "20:1-4", "21:0-2", "22:0-4", "23:2-4", "32:1-4", "33:0-2", "37:0-2",
                               "42:0-2", "44:0-1", "47:0-0"])
        // Every advertised API and version is routed: a request of each decodes to an answer,
        // never an unknown-API or unsupported-version refusal.
        for api in response.apiKeys where api.apiKey != ApiKey.apiVersions.rawValue {
            let key = try #require(ApiKey(rawValue: api.apiKey))
            for version in [api.minVersion, api.maxVersion] {
                await #expect(throws: Never.self, "\(key) v\(version)") { _ = try await self.answer(key, version: version, broker: broker) }
            }
        }
    }

    /// A default request of `key` at `version`, as the broker answers it.
    func answer(_ key: ApiKey, version: Int16, broker: Broker) async throws -> [UInt8]? {
        let client = InProcessClient(broker: broker)
        switch key {
        case .produce: return try await client.exchange(ProduceRequest(acks: 1), version: version)?.bytes
        case .fetch: return try await client.exchange(FetchRequest(), version: version)?.bytes
        case .listOffsets: return try await client.exchange(ListOffsetsRequest(), version: version)?.bytes
        case .metadata: return try await client.exchange(MetadataRequest(topics: []), version: version)?.bytes
        case .createTopics: return try await client.exchange(CreateTopicsRequest(), version: version)?.bytes
        case .deleteTopics: return try await client.exchange(DeleteTopicsRequest(), version: version)?.bytes
        case .initProducerId: return try await client.exchange(InitProducerIdRequest(), version: version)?.bytes
        case .offsetForLeaderEpoch: return try await client.exchange(OffsetForLeaderEpochRequest(), version: version)?.bytes
        case .describeConfigs: return try await client.exchange(DescribeConfigsRequest(), version: version)?.bytes
        case .createPartitions: return try await client.exchange(CreatePartitionsRequest(), version: version)?.bytes
        case .findCoordinator: return try await client.exchange(FindCoordinatorRequest(), version: version)?.bytes
        case .joinGroup: return try await client.exchange(JoinGroupRequest(), version: version)?.bytes
        case .syncGroup: return try await client.exchange(SyncGroupRequest(), version: version)?.bytes
        case .heartbeat: return try await client.exchange(HeartbeatRequest(), version: version)?.bytes
        case .leaveGroup: return try await client.exchange(LeaveGroupRequest(), version: version)?.bytes
        case .offsetCommit: return try await client.exchange(OffsetCommitRequest(), version: version)?.bytes
        case .offsetFetch: return try await client.exchange(OffsetFetchRequest(), version: version)?.bytes
        case .listGroups: return try await client.exchange(ListGroupsRequest(), version: version)?.bytes
        case .describeGroups: return try await client.exchange(DescribeGroupsRequest(), version: version)?.bytes
        case .deleteGroups: return try await client.exchange(DeleteGroupsRequest(), version: version)?.bytes
        case .offsetDelete: return try await client.exchange(OffsetDeleteRequest(), version: version)?.bytes
        case .deleteRecords: return try await client.exchange(DeleteRecordsRequest(), version: version)?.bytes
        case .alterConfigs: return try await client.exchange(AlterConfigsRequest(), version: version)?.bytes
        case .incrementalAlterConfigs: return try await client.exchange(IncrementalAlterConfigsRequest(), version: version)?.bytes
        default: throw InProcessClient.Failure(description: "no sample request for \(key)")
        }
    }

    @Test func anApiNotRoutedOrATooNewVersionClosesTheConnection() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        await #expect(throws: ProtocolError.self) { _ = try await client.exchange(EndTxnRequest(), version: 0) }
        await #expect(throws: ProtocolError.self) { _ = try await client.exchange(FetchRequest(), version: 13) }
        // ApiVersions too new: answered in v0 with UNSUPPORTED_VERSION and its own range.
        var writer = ProtocolWriter()
        try RequestHeader(apiKey: ApiKey.apiVersions.rawValue, apiVersion: 9, correlationId: 5, clientId: "future").write(to: &writer)
        writer.writeEmptyTaggedFields()
        let raw = try #require(try await broker.handle(frame: writer.bytes))
        var reader = ProtocolReader(raw.bytes)
        #expect(try reader.readInt32() == 5)
        let refused = try ApiVersionsResponse.read(version: 0, from: &reader)
        #expect(refused.errorCode == .unsupportedVersion)
        #expect(refused.apiKeys.map { "\($0.apiKey):\($0.minVersion)-\($0.maxVersion)" } == ["18:0-4"])
    }

    @Test func producedRecordsAreFetchedBackAndALongPollIsWokenByAProduce() async throws {
        let broker = try broker("num.partitions=2\n")
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        let produced = try await produce(client, "orders", [(0, batch(["a", "b"])), (1, batch(["c"]))])
        #expect(produced.responses[0].partitionResponses.map(\.errorCode) == [.none, .none])
        #expect(produced.responses[0].partitionResponses.map(\.baseOffset) == [0, 0])
        let fetched = try await fetch(client, "orders", partition: 0, offset: 0)
        #expect(fetched.responses[0].partitions[0].highWatermark == 2)
        #expect(try values(fetched.responses[0].partitions[0].records) == ["a", "b"])
        // A fetch at the end waits; the next produce to its partition wakes it.
        async let waiting = fetch(client, "orders", partition: 1, offset: 1, maxWaitMs: 30_000, minBytes: 1)
        while broker.purgatory.count == 0 { await Task.yield() }
        _ = try await produce(client, "orders", [(1, batch(["d"]))])
        let woken = try await waiting
        #expect(try values(woken.responses[0].partitions[0].records) == ["d"])
        #expect(broker.purgatory.count == 0 && broker.purgatory.keyCount == 0)
    }

    @Test func aProduceWithAcksZeroGetsNoResponseButIsAppended() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        let none = try await client.exchange(ProduceRequest(acks: 0, timeoutMs: 1000, topicData: [
            .init(name: "quiet", partitionData: [.init(index: 0, records: .bytes(try batch(["x"])[...]))]),
        ]))
        #expect(none == nil)
        #expect(broker.replicaManager.partition("quiet", 0)?.highWatermark == 1)
    }

    /// Found by the fuzz test: a produce naming a partition no log can have (an invalid topic
    /// name, a negative index) is UNKNOWN_TOPIC_OR_PARTITION, not a trap.
    @Test func aProduceToAPartitionNoLogCanHaveIsUnknown() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        let records = try batch(["x"])
        let invalidName = try await produce(client, "bad/name", [(0, records)])
        let negative = try await produce(client, "fine", [(-1, records), (0, records)])
        #expect(invalidName.responses[0].partitionResponses.map(\.errorCode) == [.unknownTopicOrPartition])
        #expect(negative.responses[0].partitionResponses.map(\.errorCode) == [.unknownTopicOrPartition, .none])
    }

    @Test func metadataV0WithAnEmptyListListsEveryTopic() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        let _: CreateTopicsResponse = try await client.send(CreateTopicsRequest(topics: [
            .init(name: "one", numPartitions: 1, replicationFactor: 1), .init(name: "two", numPartitions: 3, replicationFactor: 1),
        ]))
        let all: MetadataResponse = try await client.send(MetadataRequest(topics: []), version: 0)
        #expect(all.topics.map(\.name) == ["one", "two"])
        #expect(all.topics.map(\.partitions.count) == [1, 3])
        let none: MetadataResponse = try await client.send(MetadataRequest(topics: []), version: 12)
        #expect(none.topics.isEmpty, "from v1 on an empty list asks for no topic")
    }

    @Test func listOffsetsGivesTheEarliestLatestAndByTimestamp() async throws {
        let broker = try broker()
        defer { try? broker.close() }
        let client = InProcessClient(broker: broker)
        _ = try await produce(client, "times", [(0, batch(["a", "b", "c"]))])
        let response: ListOffsetsResponse = try await client.send(ListOffsetsRequest(replicaId: -1, topics: [
            .init(name: "times", partitions: [-2, -1, 1_001, 5_000].map { .init(partitionIndex: 0, timestamp: $0) }),
        ]))
        #expect(response.topics[0].partitions.map(\.offset) == [0, 3, 1, -1])
        #expect(response.topics[0].partitions.map(\.errorCode) == [.none, .none, .none, .none])
    }
}
