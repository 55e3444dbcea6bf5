import Foundation
@testable import PetrelBroker
import PetrelFormat
import PetrelProtocol
import PetrelRepair
import PetrelStorage
import PetrelTestSupport
import Testing

/// Compacted topics, configs altered at run time and DeleteRecords, through the broker's
/// request handlers.
@Suite struct CompactionBrokerTests {
    let directory = BrokerTestDirectory()

    func config(_ properties: String = "") throws -> BrokerConfig {
        var config = BrokerConfig()
        _ = try config.apply(properties: properties)
        config.dataDirectory = directory.path + "/data"
        config.cleaner.backoffMs = 3_600_000  // passes run by the tests alone
        return config
    }

    func createTopic(_ client: InProcessClient, _ name: String, partitions: Int32 = 1, configs: [String: String]) async throws -> ErrorCode {
        let response: CreateTopicsResponse = try await client.send(CreateTopicsRequest(topics: [
            .init(name: name, numPartitions: partitions, replicationFactor: 1,
                  configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }),
        ]))
        return response.topics[0].errorCode
    }

    func produce(_ client: InProcessClient, _ topic: String, partition: Int32 = 0, _ records: [(key: String?, value: String?)]) async throws -> ProduceResponse.PartitionProduceResponse {
        var builder = RecordBatchBuilder()
        for record in records { builder.append(key: record.key.map { Array($0.utf8) }, value: record.value.map { Array($0.utf8) }, timestamp: 1_000) }
        let response: ProduceResponse = try await client.send(ProduceRequest(acks: 1, timeoutMs: 5_000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: .bytes(try builder.build()[...]))]),
        ]))
        return response.responses[0].partitionResponses[0]
    }

    /// Every record of a partition from `offset` to its high watermark, fetched.
    func fetchAll(_ client: InProcessClient, _ topic: String, partition: Int32 = 0, from offset: Int64 = 0) async throws -> [DecodedRecord] {
        var records: [DecodedRecord] = []
        var next = offset
        while true {
            let response: FetchResponse = try await client.send(FetchRequest(maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [
                .init(topic: topic, partitions: [.init(partition: partition, fetchOffset: next, partitionMaxBytes: 1 << 20)]),
            ]))
            let data = response.responses[0].partitions[0]
            guard data.errorCode == .none else { throw InProcessClient.Failure(description: "fetch at \(next): \(data.errorCode)") }
            guard let bytes = data.records?.inlineBytes, !bytes.isEmpty else { return records }
            try Array(bytes).withUnsafeBytes { buffer in
                var reader = RecordBatchReader(buffer)
                while let batch = try reader.next() {
                    records += try batch.decodeRecords().filter { $0.offset >= next }
                    next = batch.nextOffset
                }
            }
            if next >= data.highWatermark { return records }
        }
    }

    @Test func aCompactedTopicRefusesARecordWithoutAKeyWithInvalidRecord() async throws {
        let broker = try Broker(config: config())
        let client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "table", configs: ["cleanup.policy": "compact"]) == .none)
        let refused = try await produce(client, "table", [("k", "v"), (nil, "keyless"), ("k2", "v"), (nil, "keyless")])
        #expect(refused.errorCode == .invalidRecord)
        // Each keyless record named, as Kafka does: a producer fails those and retries the rest.
        #expect(refused.recordErrors.map(\.batchIndex) == [1, 3])
        #expect(refused.recordErrors.first?.batchIndexErrorMessage?.contains("without key") == true)
        #expect(try await produce(client, "table", [("k", "v"), ("k", nil)]).errorCode == .none)
        #expect(broker.manager.log(for: TopicPartition(topic: "table", partition: 0))!.logEndOffset == 2, "the refused batch wrote nothing")
        try broker.close()
    }

    /// Kafka's LogCompactionTester, through the broker: random keys with about 10 % tombstones,
    /// compaction forced, then a full read holds exactly the last value of every live key, no
    /// deleted key once past delete.retention.ms, and offsets increasing and never reused.
    @Test func aCompactedTopicReadsAsTheLastValueOfEveryLiveKey() async throws {
        let broker = try Broker(config: config())
        let client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "changes", partitions: 2, configs: [
            "cleanup.policy": "compact", "segment.bytes": "8192", "delete.retention.ms": "1000", "min.cleanable.dirty.ratio": "0.01",
        ]) == .none)
        var random = SeededGenerator(seed: 2026)
        var written: [Int32: [(offset: Int64, key: String, value: String?)]] = [:]
        for _ in 0..<400 {
            let partition = Int32.random(in: 0...1, using: &random)
            let records: [(key: String?, value: String?)] = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                let key = "key-\(Int.random(in: 0..<150, using: &random))"
                return (key, Int.random(in: 0..<10, using: &random) == 0 ? nil : "value-\(random.next() % 100_000)")
            }
            let answer = try await produce(client, "changes", partition: partition, records)
            #expect(answer.errorCode == .none)
            for (index, record) in records.enumerated() { written[partition, default: []].append((answer.baseOffset + Int64(index), record.key!, record.value)) }
        }
        let cleaner = try #require(broker.manager.cleaner)
        let map = OffsetMap(memoryBytes: 24 * 64)  // fewer slots than keys: several passes
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for partition in 0...1 {
            let topicPartition = TopicPartition(topic: "changes", partition: Int32(partition))
            _ = try cleaner.compactFully(topicPartition, nowMs: now, map: map)
            _ = try cleaner.compactFully(topicPartition, nowMs: now + 1_001, map: map)  // past every tombstone's horizon
            let records = try await fetchAll(client, "changes", partition: Int32(partition))
            let history = written[Int32(partition)]!
            var latest: [String: (offset: Int64, value: String?)] = [:]
            for record in history { latest[record.key] = (record.offset, record.value) }
            let byOffset = Dictionary(uniqueKeysWithValues: history.map { ($0.offset, $0) })
            let cleanedBelow = try #require(cleaner.checkpoint(for: topicPartition))
            #expect(zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset }, "offsets strictly increase")
            for record in records {
                let original = try #require(byOffset[record.offset], "offset \(record.offset) was written")
                #expect(record.key.map { String(decoding: $0, as: UTF8.self) } == original.key && record.value.map { String(decoding: $0, as: UTF8.self) } == original.value)
            }
            let live = records.filter { $0.offset < cleanedBelow }
            var table: [String: String] = [:]
            for record in records { table[String(decoding: record.key!, as: UTF8.self)] = record.value.map { String(decoding: $0, as: UTF8.self) } }
            #expect(table == latest.compactMapValues(\.value), "partition \(partition): the last value of every live key, no deleted key")
            #expect(Set(live.map(\.key)).count == live.count, "one record per key below the cleaner's checkpoint")
            #expect(!live.contains { $0.value == nil }, "no tombstone left past delete.retention.ms")
            #expect(live.count < history.filter { $0.offset < cleanedBelow }.count)
        }
        try broker.close()
    }

    @Test func configsAlteredAtRunTimeApplyToTheOpenLogAndSurviveARestart() async throws {
        var broker = try Broker(config: config())
        var client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "events", configs: ["retention.ms": "60000"]) == .none)
        let resource = { (configs: [IncrementalAlterConfigsRequest.AlterableConfig]) in
            IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "events", configs: configs)])
        }
        let altered: IncrementalAlterConfigsResponse = try await client.send(resource([
            .init(name: "min.cleanable.dirty.ratio", configOperation: 0, value: "0.1"),
            .init(name: "cleanup.policy", configOperation: 2, value: "compact"),
        ]))
        #expect(altered.responses[0].errorCode == .none)
        let log = try #require(broker.manager.log(for: TopicPartition(topic: "events", partition: 0)))
        #expect(log.config.cleanupPolicy == [.compact, .delete] && log.config.minCleanableDirtyRatio == 0.1, "applied to the open log")
        #expect(log.config.retentionMs == 60_000, "the other overrides stay")
        let refused: IncrementalAlterConfigsResponse = try await client.send(resource([.init(name: "min.cleanable.dirty.ratio", configOperation: 0, value: "2")]))
        #expect(refused.responses[0].errorCode == .invalidConfig)
        #expect(refused.responses[0].errorMessage?.contains("min.cleanable.dirty.ratio") == true, "\(refused.responses[0].errorMessage ?? "")")
        let unknown: IncrementalAlterConfigsResponse = try await client.send(resource([.init(name: "no.such.setting", configOperation: 0, value: "1")]))
        #expect(unknown.responses[0].errorCode == .invalidConfig)
        let validateOnly: IncrementalAlterConfigsResponse = try await client.send(IncrementalAlterConfigsRequest(
            resources: [.init(resourceType: 2, resourceName: "events", configs: [.init(name: "retention.ms", configOperation: 1, value: nil)])],
            validateOnly: true))
        #expect(validateOnly.responses[0].errorCode == .none && log.config.retentionMs == 60_000)
        let described: DescribeConfigsResponse = try await client.send(DescribeConfigsRequest(
            resources: [.init(resourceType: DescribeConfigsRequest.topicResource, resourceName: "events", configurationKeys: nil)]))
        let shown = Dictionary(uniqueKeysWithValues: described.results[0].configs.map { ($0.name, ($0.value, $0.configSource)) })
        #expect(shown["cleanup.policy"]?.0 == "delete,compact" && shown["cleanup.policy"]?.1 == 1)
        #expect(shown["delete.retention.ms"]?.0 == "86400000" && shown["delete.retention.ms"]?.1 == 5)
        try broker.close()

        broker = try Broker(config: config("log.cleaner.delete.retention.ms=5000"))
        client = InProcessClient(broker: broker)
        let reopened = try #require(broker.manager.log(for: TopicPartition(topic: "events", partition: 0)))
        #expect(reopened.config.cleanupPolicy == [.compact, .delete] && reopened.config.minCleanableDirtyRatio == 0.1, "kept across a restart")
        #expect(reopened.config.deleteRetentionMs == 5_000)
        let again: DescribeConfigsResponse = try await client.send(DescribeConfigsRequest(
            resources: [.init(resourceType: DescribeConfigsRequest.topicResource, resourceName: "events", configurationKeys: ["delete.retention.ms"])]))
        #expect(again.results[0].configs.map(\.configSource) == [4], "a broker setting given at start-up is STATIC_BROKER_CONFIG")
        // AlterConfigs replaces the whole set: what it does not name goes back to the default.
        let replaced: AlterConfigsResponse = try await client.send(AlterConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "events", configs: [.init(name: "retention.ms", value: "120000")]),
        ]))
        #expect(replaced.responses[0].errorCode == .none)
        #expect(reopened.config.cleanupPolicy == .delete && reopened.config.retentionMs == 120_000)
        let broker4: AlterConfigsResponse = try await client.send(AlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "log.cleaner.threads", value: "2")]),
        ]))
        #expect(broker4.responses[0].errorCode == .invalidConfig)
        try broker.close()
    }

    @Test func deleteRecordsMovesTheLogStartOffsetAndAnswersTheLowWatermark() async throws {
        let broker = try Broker(config: config())
        let client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "old", configs: ["segment.bytes": "1024"]) == .none)
        for index in 0..<100 { _ = try await produce(client, "old", [("k\(index)", String(repeating: "v", count: 50))]) }
        let log = try #require(broker.manager.log(for: TopicPartition(topic: "old", partition: 0)))
        let segmentsBefore = log.segmentCount
        func delete(_ partition: Int32, before offset: Int64) async throws -> DeleteRecordsResponse.DeleteRecordsPartitionResult {
            let response: DeleteRecordsResponse = try await client.send(DeleteRecordsRequest(topics: [
                .init(name: "old", partitions: [.init(partitionIndex: partition, offset: offset)]),
            ], timeoutMs: 1000))
            return response.topics[0].partitions[0]
        }
        let moved = try await delete(0, before: 50)
        #expect(moved.errorCode == .none && moved.lowWatermark == 50)
        #expect(log.logStartOffset == 50 && log.segmentCount < segmentsBefore, "whole segments below it are deleted")
        let earliest: ListOffsetsResponse = try await client.send(ListOffsetsRequest(replicaId: -1, isolationLevel: 0, topics: [
            .init(name: "old", partitions: [.init(partitionIndex: 0, timestamp: -2)]),
        ]))
        #expect(earliest.topics[0].partitions[0].offset == 50)
        #expect(try await fetchAll(client, "old", from: 50).first?.offset == 50)
        await #expect(throws: InProcessClient.Failure.self) { try await fetchAll(client, "old", from: 10) }
        #expect(try await delete(0, before: 101).errorCode == .offsetOutOfRange)
        #expect(try await delete(0, before: -5).errorCode == .offsetOutOfRange)
        #expect(try await delete(3, before: 1).errorCode == .unknownTopicOrPartition)
        let all = try await delete(0, before: -1)
        #expect(all.errorCode == .none && all.lowWatermark == 100, "-1 is the high watermark")
        try broker.close()
    }

    /// Broker settings altered at run time (a node's own and the cluster default): applied to
    /// the open logs of topics without overrides, shown with their dynamic source, kept across a
    /// restart; settings that cannot change at run time are refused, naming them.
    @Test func brokerSettingsAlteredAtRunTimeApplyToTopicsWithoutOverrides() async throws {
        var broker = try Broker(config: config())
        var client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "plain", configs: [:]) == .none)
        #expect(try await createTopic(client, "own", configs: ["retention.ms": "5000"]) == .none)
        let node: AlterConfigsResponse = try await client.send(AlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "log.retention.ms", value: "123456"),
                                                                .init(name: "sasl.kerberos.min.time.before.relogin", value: "58000")]),
        ]))
        #expect(node.responses[0].errorCode == .none, "\(node.responses[0].errorMessage ?? "")")
        let clusterDefault: IncrementalAlterConfigsResponse = try await client.send(IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "", configs: [.init(name: "log.cleaner.min.cleanable.ratio", configOperation: 0, value: "0.2")]),
        ]))
        #expect(clusterDefault.responses[0].errorCode == .none, "\(clusterDefault.responses[0].errorMessage ?? "")")
        let plain = try #require(broker.manager.log(for: TopicPartition(topic: "plain", partition: 0)))
        let own = try #require(broker.manager.log(for: TopicPartition(topic: "own", partition: 0)))
        #expect(plain.config.retentionMs == 123_456 && plain.config.minCleanableDirtyRatio == 0.2, "applied to the open log")
        #expect(own.config.retentionMs == 5_000, "a topic's own override wins")
        let bad: AlterConfigsResponse = try await client.send(AlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "log.retention.ms", value: "soon")]),
        ]))
        #expect(bad.responses[0].errorCode == .invalidConfig && bad.responses[0].errorMessage?.contains("log.retention.ms") == true)
        let fixed: AlterConfigsResponse = try await client.send(AlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "auto.create.topics.enable", value: "false")]),
        ]))
        #expect(fixed.responses[0].errorCode == .invalidConfig && fixed.responses[0].errorMessage?.contains("auto.create.topics.enable") == true)
        #expect(plain.config.retentionMs == 123_456, "a refused change changes nothing")
        func described(_ type: Int8, _ name: String) async throws -> [String: (String?, Int8, Bool)] {
            let response: DescribeConfigsResponse = try await client.send(DescribeConfigsRequest(resources: [.init(resourceType: type, resourceName: name, configurationKeys: nil)]))
            return Dictionary(uniqueKeysWithValues: response.results[0].configs.map { ($0.name, ($0.value, $0.configSource, $0.readOnly)) })
        }
        let topic = try await described(2, "plain")
        #expect(topic["retention.ms"]?.0 == "123456" && topic["retention.ms"]?.1 == 2, "DYNAMIC_BROKER_CONFIG")
        #expect(topic["min.cleanable.dirty.ratio"]?.0 == "0.2" && topic["min.cleanable.dirty.ratio"]?.1 == 3, "DYNAMIC_DEFAULT_BROKER_CONFIG")
        let brokerEntries = try await described(4, "1")
        #expect(brokerEntries["log.retention.ms"]?.0 == "123456" && brokerEntries["log.retention.ms"]?.1 == 2 && brokerEntries["log.retention.ms"]?.2 == false)
        #expect(brokerEntries["sasl.kerberos.min.time.before.relogin"]?.0 == "58000")
        #expect(brokerEntries["node.id"]?.2 == true, "a setting that cannot change is read-only")
        try broker.close()
        #expect(try LogDirectoryChecker(path: directory.path + "/data").check().findings.filter { $0.file.hasSuffix("broker-configs") } .isEmpty)

        broker = try Broker(config: config())
        client = InProcessClient(broker: broker)
        let reopened = try #require(broker.manager.log(for: TopicPartition(topic: "plain", partition: 0)))
        #expect(reopened.config.retentionMs == 123_456 && reopened.config.minCleanableDirtyRatio == 0.2, "kept across a restart")
        // Removing the node's setting goes back to the static default.
        let removed: IncrementalAlterConfigsResponse = try await client.send(IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "log.retention.ms", configOperation: 1, value: nil)]),
        ]))
        #expect(removed.responses[0].errorCode == .none)
        #expect(reopened.config.retentionMs == LogConfig().retentionMs)
        try broker.close()
    }

    /// Kafka 4.1 accepts an empty `cleanup.policy` (confluent-kafka-python's
    /// test_incremental_alter_configs subtracts `delete` from `delete`): neither deletion nor
    /// compaction applies then.
    @Test func anEmptyCleanupPolicyKeepsEverything() async throws {
        let broker = try Broker(config: config())
        let client = InProcessClient(broker: broker)
        #expect(try await createTopic(client, "kept", configs: ["retention.ms": "1", "segment.bytes": "1024"]) == .none)
        let subtracted: IncrementalAlterConfigsResponse = try await client.send(IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "kept", configs: [.init(name: "cleanup.policy", configOperation: 3, value: "delete")]),
        ]))
        #expect(subtracted.responses[0].errorCode == .none, "\(subtracted.responses[0].errorMessage ?? "")")
        let log = try #require(broker.manager.log(for: TopicPartition(topic: "kept", partition: 0)))
        #expect(log.config.cleanupPolicy.isEmpty)
        for index in 0..<50 { _ = try await produce(client, "kept", [("k\(index)", String(repeating: "v", count: 50))]) }
        #expect(try log.applyRetention(nowMs: Int64.max / 2) == 0, "no retention without delete")
        let described: DescribeConfigsResponse = try await client.send(DescribeConfigsRequest(
            resources: [.init(resourceType: 2, resourceName: "kept", configurationKeys: ["cleanup.policy"])]))
        #expect(described.results[0].configs.first?.value == "")
        try broker.close()
    }
}

