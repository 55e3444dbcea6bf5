import Foundation
@testable import PetrelBroker
import PetrelCoordinator
import PetrelFormat
import PetrelStorage
import Testing

/// The coordinators' seam over the broker: appends and reads of an internal topic's partition
/// through the replica manager, and leadership learnt for partitions led now and created later.
@Suite struct BrokerPartitionWriterTests {
    let directory = BrokerTestDirectory()

    final class Changes: Sendable {
        let seen = Locked<[LeadershipChange]>([])
        func add(_ change: LeadershipChange) { seen.withLock { $0.append(change) } }
        var all: [LeadershipChange] { seen.withLock { $0 } }
    }

    @Test func appendsReadsAndLeadershipGoThroughTheBroker() async throws {
        var config = BrokerConfig()
        config.dataDirectory = directory.path + "/data"
        let broker = try Broker(config: config)
        defer { try? broker.close() }
        let writer: any PartitionWriter = broker.partitionWriter
        try broker.topics.create("__consumer_offsets", partitions: 2, isInternal: true)
        let changes = Changes()
        writer.watchLeadership(of: "__consumer_offsets") { changes.add($0) }
        #expect(changes.all.map(\.partition.partition) == [0, 1] && changes.all.allSatisfy { $0.kind == .elected })
        try broker.topics.addPartitions("__consumer_offsets", count: 3)
        #expect(changes.all.map(\.partition.partition) == [0, 1, 2], "a partition created later is announced")

        let partition = TopicPartition(topic: "__consumer_offsets", partition: 1)
        var builder = RecordBatchBuilder()
        builder.append(key: Array("group".utf8), value: Array("state".utf8), timestamp: 1)
        let first = try await writer.append(try builder.build(), to: partition)
        let second = try await writer.append(try builder.build(), to: partition)
        #expect((first, second) == (0, 1))
        let read = try await writer.read(partition, fromOffset: 0, maxBytes: 1 << 20)
        #expect(read.highWatermark == 2 && read.logStartOffset == 0)
        #expect(try read.records.withUnsafeBytes { try RecordBatch(parsing: $0).baseOffset } == 0)

        await #expect(throws: PartitionWriteError.self) {
            _ = try await writer.append([1, 2, 3], to: TopicPartition(topic: "missing", partition: 0))
        }
        let refused = await #expect(throws: PartitionWriteError.self) { _ = try await writer.append([1, 2, 3], to: partition) }
        #expect(refused?.kind == .invalidRecords)
    }
}
