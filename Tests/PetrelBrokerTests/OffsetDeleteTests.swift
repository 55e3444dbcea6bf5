import Foundation
@testable import PetrelBroker
import PetrelProtocol
import Testing

/// OffsetDelete through the broker: offsets of existing partitions go (and stay gone after a
/// restart), a partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION, an unknown group
/// GROUP_ID_NOT_FOUND.
@Suite struct OffsetDeleteTests {
    let directory = BrokerTestDirectory()

    func broker() throws -> Broker {
        var config = BrokerConfig()
        _ = try config.apply(properties: "offsets.topic.num.partitions=1")
        config.dataDirectory = directory.path + "/data"
        return try Broker(config: config)
    }

    func committed(_ client: InProcessClient, group: String) async throws -> [Int32: Int64] {
        let response: OffsetFetchResponse = try await client.send(OffsetFetchRequest(groupId: "simple", topics: nil), version: 7)
        #expect(response.errorCode == .none)
        return Dictionary(uniqueKeysWithValues: response.topics.flatMap { $0.partitions.map { ($0.partitionIndex, $0.committedOffset) } })
    }

    @Test func offsetsOfExistingPartitionsAreDeletedAndStayDeletedAfterARestart() async throws {
        var broker = try broker()
        var client = InProcessClient(broker: broker)
        let created: CreateTopicsResponse = try await client.send(CreateTopicsRequest(
            topics: [.init(name: "t", numPartitions: 3, replicationFactor: -1, configs: [])], timeoutMs: 1_000, validateOnly: false))
        #expect(created.topics.map(\.errorCode) == [.none])
        // The first FindCoordinator creates the offsets topic; its partition then loads.
        let _: FindCoordinatorResponse = try await client.send(FindCoordinatorRequest(key: "simple"), version: 3)
        var commit = OffsetCommitResponse()
        for _ in 0..<200 {
            commit = try await client.send(OffsetCommitRequest(groupId: "simple", generationIdOrMemberEpoch: -1, memberId: "", topics: [
                .init(name: "t", partitions: [0, 1, 2].map { .init(partitionIndex: $0, committedOffset: 10 + Int64($0)) }),
            ]), version: 7)
            if commit.topics.first?.partitions.first?.errorCode != .coordinatorLoadInProgress && commit.topics.first?.partitions.first?.errorCode != .notCoordinator { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(commit.topics.flatMap { $0.partitions.map(\.errorCode) } == [.none, .none, .none])

        let deleted: OffsetDeleteResponse = try await client.send(OffsetDeleteRequest(groupId: "simple", topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 1), .init(partitionIndex: 7)]),
            .init(name: "nope", partitions: [.init(partitionIndex: 0)]),
        ]), version: 0)
        #expect(deleted.errorCode == .none)
        #expect(deleted.topics.map { $0.partitions.map(\.errorCode) } == [[.none, .unknownTopicOrPartition], [.unknownTopicOrPartition]])
        #expect(try await committed(client, group: "simple") == [0: 10, 2: 12])
        let unknown: OffsetDeleteResponse = try await client.send(OffsetDeleteRequest(groupId: "nobody", topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0)]),
        ]), version: 0)
        #expect(unknown.errorCode == .groupIdNotFound)

        try broker.close()
        broker = try self.broker()
        client = InProcessClient(broker: broker)
        var after: [Int32: Int64] = [:]
        for _ in 0..<200 {
            let response: OffsetFetchResponse = try await client.send(OffsetFetchRequest(groupId: "simple", topics: nil), version: 7)
            if response.errorCode == .none { after = try await committed(client, group: "simple"); break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(after == [0: 10, 2: 12], "the tombstone was written")
        try broker.close()
    }
}
