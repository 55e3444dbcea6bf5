import Foundation
@testable import PetrelBroker
import PetrelProtocol
import PetrelStorage
import Testing

/// The broker's metadata in its `topics` file: written before a change takes effect, read by
/// the same parser fsck uses, adopted from a directory written before the file existed, and
/// finishing at start-up what a crash interrupted.
@Suite struct MetadataStoreTests {
    let directory = BrokerTestDirectory()
    var data: String { directory.path + "/data" }

    func broker() throws -> Broker {
        var config = BrokerConfig()
        config.dataDirectory = data
        return try Broker(config: config)
    }

    func storedTopics() throws -> [BrokerStateFiles.TopicRecord] {
        let path = "\(data)/\(BrokerStateFiles.topicsName)"
        return try BrokerStateFiles.topics(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
    }

    func writeTopics(_ records: [BrokerStateFiles.TopicRecord]) throws {
        try Data(BrokerStateFiles.encode(topics: records)).write(to: URL(fileURLWithPath: "\(data)/\(BrokerStateFiles.topicsName)"))
    }

    @Test func theTopicsFileRoundTripsAndRefusesWhatItCannotParse() throws {
        let records = [
            BrokerStateFiles.TopicRecord(name: "orders", topicId: Array(0..<16), partitions: 3, configs: ["retention.ms": "1000", "cleanup.policy": "delete"]),
            BrokerStateFiles.TopicRecord(name: "__consumer_offsets", topicId: Array(repeating: 0xAB, count: 16), partitions: 50, isInternal: true, state: .deleting),
        ]
        let bytes = BrokerStateFiles.encode(topics: records)
        #expect(try BrokerStateFiles.topics(parsing: bytes, path: "t") == records.sorted { $0.name < $1.name })
        let damaged = [
            "version=2\n",
            "version=1\ntopic orders id=00 partitions=3 internal=false state=live\n",
            "version=1\ntopic orders id=AAECAwQFBgcICQoLDA0ODw partitions=0 internal=false state=live\n",
            "version=1\ntopic orders id=AAECAwQFBgcICQoLDA0ODw partitions=3 internal=maybe state=live\n",
            "version=1\nconfig orders retention.ms=1\n",
            "version=1\ntopic a/b id=AAECAwQFBgcICQoLDA0ODw partitions=3 internal=false state=live\n",
            "version=1\nsomething else\n",
        ]
        for text in damaged {
            #expect(throws: StorageError.self, "\(text)") { try BrokerStateFiles.topics(parsing: Array(text.utf8), path: "t") }
        }
    }

    @Test func aTopicIsRecordedWithItsConfigsAndFlagsAndForgottenWhenDeleted() async throws {
        let broker = try broker()
        try broker.topics.create("kept", partitions: 2, configs: ["retention.ms": "5000"])
        try broker.topics.create("__internal", partitions: 1, isInternal: true)
        #expect(try storedTopics().map(\.name) == ["__internal", "kept"])
        #expect(try storedTopics().last?.configs == ["retention.ms": "5000"])
        let described: MetadataResponse = try await InProcessClient(broker: broker).send(MetadataRequest(topics: nil))
        #expect(described.topics.map { "\($0.name ?? ""):\($0.isInternal)" } == ["__internal:true", "kept:false"])
        try broker.topics.delete("kept")
        #expect(try storedTopics().map(\.name) == ["__internal"])
        try broker.close()
    }

    @Test func aDeletionInterruptedByACrashIsFinishedAtStartUp() throws {
        var first: Broker? = try broker()
        try first!.topics.create("gone", partitions: 3)
        try first!.close()
        first = nil
        // As if the broker died after recording the deletion and removing one partition.
        try writeTopics(try storedTopics().map { var record = $0; record.state = .deleting; return record })
        try FileManager.default.removeItem(atPath: "\(data)/gone-1")
        let reopened = try broker()
        #expect(reopened.topics.info("gone") == nil)
        #expect(try storedTopics().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.hasPrefix("gone-") }.isEmpty)
        try reopened.close()
    }

    @Test func aLiveTopicsMissingPartitionIsCreatedAgainAndAStrayDirectoryAdopted() throws {
        var first: Broker? = try broker()
        try first!.topics.create("half", partitions: 2)
        try first!.topics.create("stray", partitions: 1)
        try first!.close()
        first = nil
        try FileManager.default.removeItem(atPath: "\(data)/half-1")
        try writeTopics(try storedTopics().filter { $0.name != "stray" })
        let reopened = try broker()
        #expect(reopened.manager.log(for: TopicPartition(topic: "half", partition: 1)) != nil)
        #expect(reopened.topics.info("stray")?.partitions == 1, "a partition directory is never hidden")
        #expect(try storedTopics().map(\.name) == ["half", "stray"])
        try reopened.close()
    }

    /// A directory written before the `topics` file: its partitions and `topic-configs` become
    /// records, once, and the old file goes.
    @Test func aDirectoryFromBeforeTheTopicsFileIsAdopted() throws {
        var first: Broker? = try broker()
        try first!.topics.create("old", partitions: 2, configs: ["retention.ms": "7777"])
        try first!.close()
        first = nil
        try FileManager.default.removeItem(atPath: "\(data)/\(BrokerStateFiles.topicsName)")
        try Data("version=1\nold retention.ms=7777\n".utf8).write(to: URL(fileURLWithPath: "\(data)/\(BrokerStateFiles.topicConfigsName)"))
        let reopened = try broker()
        #expect(reopened.topics.info("old")?.partitions == 2)
        #expect(reopened.manager.log(for: TopicPartition(topic: "old", partition: 0))?.config.retentionMs == 7777, "the old overrides apply")
        #expect(try storedTopics().first?.configs == ["retention.ms": "7777"])
        #expect(!FileManager.default.fileExists(atPath: "\(data)/\(BrokerStateFiles.topicConfigsName)"))
        try reopened.close()
    }
}
