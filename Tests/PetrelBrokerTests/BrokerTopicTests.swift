import Foundation
@testable import PetrelBroker
import PetrelProtocol
import PetrelStorage
import Testing

/// Topic creation in process: all or nothing, one topic id under concurrent auto-creation,
/// bounded partition counts, configs kept across restarts, and start-up refusing broker files
/// it cannot trust.
@Suite struct BrokerTopicTests {
    let directory = BrokerTestDirectory()

    func config(_ properties: String = "") throws -> BrokerConfig {
        var config = BrokerConfig()
        _ = try config.apply(properties: properties)
        config.dataDirectory = directory.path + "/data"
        return config
    }

    func partitionDirectories(_ topic: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path + "/data").filter { $0.hasPrefix(topic + "-") }.sorted()
    }

    @Test func aCreationThatFailsHalfWayLeavesNothingAndCanBeRetried() throws {
        let io = FaultInjectingFileIO()
        let broker = try Broker(config: config(), io: io)
        io.inject(.failMkdir(pathSuffix: "/orders-2", errno: ENOSPC))
        #expect(throws: StorageError.self) { try broker.topics.create("orders", partitions: 4) }
        #expect(try partitionDirectories("orders").isEmpty, "the partitions created before the failure are removed")
        #expect(broker.topics.info("orders") == nil)
        io.clearFaults()
        try broker.topics.create("orders", partitions: 4)
        #expect(try partitionDirectories("orders") == ["orders-0", "orders-1", "orders-2", "orders-3"])
        try broker.close()
    }

    @Test func aPartitionWhoseLogCannotOpenLeavesNoDirectory() throws {
        let io = FaultInjectingFileIO()
        let broker = try Broker(config: config(), io: io)
        try broker.topics.create("grow", partitions: 1)
        io.inject(.failTruncates(errno: ENOSPC))
        #expect(throws: StorageError.self) { try broker.topics.addPartitions("grow", count: 2) }
        #expect(try partitionDirectories("grow") == ["grow-0"])
        io.clearFaults()
        try broker.topics.addPartitions("grow", count: 2)
        #expect(broker.topics.info("grow")?.partitions == 2)
        try broker.close()
    }

    @Test func concurrentAutoCreationsDrawOneTopicId() async throws {
        let broker = try Broker(config: config("num.partitions=4\n"))
        let ids = await withTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<16 {
                group.addTask { (try? broker.topics.autoCreate("raced")?.get())?.topicId }
            }
            var ids: [[UInt8]?] = []
            for await id in group { ids.append(id) }
            return ids
        }
        #expect(Set(ids.map { $0 ?? [] }).count == 1, "every creator sees the same topic id")
        for partition in 0..<4 {
            let stored = try PartitionMetadataFile(directory: "\(directory.path)/data/raced-\(partition)").read()
            #expect(stored == ids[0], "partition \(partition) holds the topic's id")
        }
        try broker.close()
    }

    @Test func partitionCountsAreBounded() async throws {
        let broker = try Broker(config: config("max.broker.partitions=10\npetrel.max.partitions.per.request=8\n"))
        let client = InProcessClient(broker: broker)
        func create(_ topics: [(String, Int32)]) async throws -> [ErrorCode] {
            let response: CreateTopicsResponse = try await client.send(CreateTopicsRequest(
                topics: topics.map { .init(name: $0.0, numPartitions: $0.1, replicationFactor: -1, configs: []) }, timeoutMs: 1000, validateOnly: false))
            return response.topics.map(\.errorCode)
        }
        #expect(try await create([("huge", 268_000_000)]) == [.invalidPartitions])
        #expect(try await create([("a", 5), ("b", 5)]) == [.none, .invalidPartitions], "the bound is per request")
        #expect(try await create([("c", 6)]) == [.policyViolation], "5 held + 6 > max.broker.partitions")
        #expect(try await create([("d", 5)]) == [.none])
        #expect(broker.topics.partitionCount == 10)
        try broker.close()
    }

    @Test func topicConfigsAreValidatedAppliedAndKeptAcrossARestart() async throws {
        var broker: Broker? = try Broker(config: config())
        func create(_ name: String, _ configs: [(String, String?)]) async throws -> CreateTopicsResponse.CreatableTopicResult {
            let response: CreateTopicsResponse = try await InProcessClient(broker: broker!).send(CreateTopicsRequest(
                topics: [.init(name: name, numPartitions: 2, replicationFactor: 1, configs: configs.map { .init(name: $0.0, value: $0.1) })],
                timeoutMs: 1000, validateOnly: false))
            return response.topics[0]
        }
        #expect(try await create("bad", [("retention.mss", "1")]).errorCode == .invalidConfig)
        #expect(try await create("bad", [("retention.ms", "soon")]).errorCode == .invalidConfig)
        #expect(try await create("bad", [("cleanup.policy", "compacted")]).errorCode == .invalidConfig)
        #expect(try await create("bad", [("message.timestamp.type", "LogAppendTime")]).errorCode == .invalidConfig, "not supported yet: refused, not ignored")
        #expect(broker!.topics.info("bad") == nil)
        #expect(try await create("kept", [("retention.ms", "12345"), ("segment.bytes", "1048576"), ("unclean.leader.election.enable", "false")]).errorCode == .none)
        #expect(broker!.manager.log(for: TopicPartition(topic: "kept", partition: 1))?.config.retentionMs == 12345)
        try broker!.close()
        broker = nil
        let reopened = try Broker(config: config())
        let log = reopened.manager.log(for: TopicPartition(topic: "kept", partition: 0))
        #expect(log?.config.retentionMs == 12345 && log?.config.segmentBytes == 1_048_576, "applied again after a restart")
        let described: DescribeConfigsResponse = try await InProcessClient(broker: reopened).send(DescribeConfigsRequest(
            resources: [.init(resourceType: DescribeConfigsRequest.topicResource, resourceName: "kept", configurationKeys: nil)]))
        let shown = Dictionary(uniqueKeysWithValues: described.results[0].configs.map { ($0.name, ($0.value, $0.configSource)) })
        #expect(shown["retention.ms"]?.0 == "12345" && shown["retention.ms"]?.1 == 1)
        #expect(shown["unclean.leader.election.enable"]?.0 == "false")
        #expect(shown["retention.bytes"]?.1 == 5, "settings not overridden are the broker's defaults")
        try reopened.close()
    }

    @Test func manualAssignmentsGiveThePartitionCountAndAreChecked() async throws {
        let broker = try Broker(config: config())
        func create(_ name: String, _ assignments: [(Int32, [Int32])]) async throws -> CreateTopicsResponse.CreatableTopicResult {
            var topic = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: -1, replicationFactor: -1, configs: [])
            topic.assignments = assignments.map { .init(partitionIndex: $0.0, brokerIds: $0.1) }
            let response: CreateTopicsResponse = try await InProcessClient(broker: broker).send(CreateTopicsRequest(topics: [topic], timeoutMs: 1000, validateOnly: false))
            return response.topics[0]
        }
        #expect(try await create("elsewhere", [(0, [2])]).errorCode == .invalidReplicaAssignment)
        #expect(try await create("holes", [(0, [1]), (2, [1])]).errorCode == .invalidPartitions)
        let created = try await create("manual", [(0, [1]), (1, [1]), (2, [1])])
        #expect(created.errorCode == .none && created.numPartitions == 3)
        #expect(broker.topics.info("manual")?.partitions == 3)
        try broker.close()
    }

    @Test(arguments: ["producer-id-block", "meta.properties"])
    func aDamagedBrokerFileIsRefusedAtStart(name: String) async throws {
        let first = try Broker(config: config())
        let _: InitProducerIdResponse = try await InProcessClient(broker: first).send(
            InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1))
        try first.close()
        let path = "\(directory.path)/data/\(name)"
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StorageError.self) { _ = try Broker(config: config()) }
        #expect(error?.path == path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "garbage\n", "the file is left as it was")
    }
}
