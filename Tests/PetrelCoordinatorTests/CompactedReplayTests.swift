import Foundation
@testable import PetrelCoordinator
import PetrelFormat
import PetrelStorage
import PetrelTestSupport
import Testing

/// The group coordinator's state is what replaying `__consumer_offsets` gives, and that log is
/// compacted: replaying it compacted must give what replaying it whole gives (Kafka's
/// KAFKA-20254 and its compaction replay tests, guarantees.md §3.4 rule 4), before and after
/// tombstones pass their delete horizon.
@Suite struct CompactedReplayTests {
    /// A canonical, comparable summary of replayed groups.
    static func summary(_ groups: [String: ClassicGroup]) -> [String] {
        groups.keys.sorted().map { id in
            let group = groups[id]!
            let members = group.memberOrder.map { "\($0):\(group.members[$0]?.assignment ?? [])" }
            let offsets = group.offsets.keys.sorted().map { partition in
                let committed = group.offsets[partition]!
                return "\(partition)=\(committed.offset)/\(committed.leaderEpoch)/\(committed.metadata)/\(committed.commitTimestampMs)@\(committed.recordOffset)"
            }
            return "\(id) gen \(group.generationId) \(group.protocolType ?? "-")/\(group.protocolName ?? "-") leader \(group.leaderId ?? "-") "
                + "\(group.state) members \(members) offsets \(offsets)"
        }
    }

    /// Replays a whole log through the coordinator's replay.
    static func replay(_ log: Log) throws -> [String: ClassicGroup] {
        var replay = OffsetsReplay(nowMs: 1_000)
        var offset = log.logStartOffset
        while offset < log.logEndOffset {
            let bytes = try log.read(fromOffset: offset, maxBytes: 1 << 16) { Array($0.bytes) }
            guard !bytes.isEmpty else { break }
            offset = try replay.apply(bytes, partition: TopicPartition(topic: "__consumer_offsets", partition: 0), highWatermark: log.logEndOffset)
        }
        return replay.groups
    }

    /// A random history of the four kinds of record, over a few groups and partitions.
    static func randomRecords(_ random: inout SeededGenerator) -> [OffsetsTopicRecords.KeyValue] {
        let groupId = "group-\(Int.random(in: 0..<4, using: &random))"
        let partition = TopicPartition(topic: ["orders", "payments"].randomElement(using: &random)!, partition: Int32.random(in: 0..<3, using: &random))
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<50:
            let offset = OffsetToCommit(partition: partition, offset: Int64.random(in: 0..<10_000, using: &random), leaderEpoch: 0, metadata: "m")
            return [OffsetsTopicRecords.offsetCommit(group: groupId, offset, commitTimestampMs: Int64.random(in: 0..<1_000, using: &random))]
        case 50..<65:
            return [OffsetsTopicRecords.offsetTombstone(group: groupId, partition: partition)]
        case 65..<85:
            var group = ClassicGroup(groupId: groupId, nowMs: 1_000)
            group.generationId = Int32.random(in: 1..<50, using: &random)
            group.protocolType = "consumer"
            group.protocolName = "range"
            for index in 0..<Int.random(in: 0...2, using: &random) {
                group.add(GroupMember(memberId: "member-\(index)", groupInstanceId: nil, clientId: "c", clientHost: "/127.0.0.1",
                                      rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000, protocolType: "consumer",
                                      protocols: [GroupProtocol(name: "range", metadata: [1, 2])], assignment: [UInt8(index)],
                                      sessionDeadlineMs: 0))
            }
            group.leaderId = group.memberOrder.first
            group.state = group.members.isEmpty ? .empty : .stable
            return [OffsetsTopicRecords.groupMetadata(group)]
        default:
            return [OffsetsTopicRecords.groupTombstone(groupId)]
        }
    }

    @Test(arguments: 0..<16)
    func replayingTheCompactedOffsetsLogGivesTheGroupsTheWholeLogGives(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed) + 500)
        let directory = NSTemporaryDirectory() + "petrel-replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = 2048
        config.deleteRetentionMs = 1_000
        let (log, _) = try Log.open(directory: directory + "/__consumer_offsets-0", config: config)
        for _ in 0..<Int.random(in: 50...400, using: &random) {
            let records = (0..<Int.random(in: 1...3, using: &random)).flatMap { _ in Self.randomRecords(&random) }
            try log.append(try OffsetsTopicRecords.batch(records, timestampMs: 1_000))
        }
        let whole = Self.summary(try Self.replay(log))
        let map = OffsetMap(memoryBytes: 24 * Int.random(in: 3...60, using: &random))
        var checkpoint: Int64?
        for nowMs: Int64 in [5_000, 5_500, 7_000] {  // before, then past, the tombstones' horizon (5 000 + 1 000)
            repeat {
                let result = try log.clean(checkpoint: checkpoint, map: map, options: CleaningOptions(nowMs: nowMs))
                checkpoint = result.endOffset
                if !result.offsetMapFilled { break }
            } while true
            #expect(Self.summary(try Self.replay(log)) == whole, "seed \(seed), cleaned at \(nowMs)")
        }
        try log.close()
    }
}
