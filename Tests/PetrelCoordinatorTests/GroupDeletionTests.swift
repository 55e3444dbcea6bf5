import PetrelCoordinator
import PetrelProtocol
import PetrelStorage
import Testing

/// Deleting groups, by DeleteGroups and by expiry: nothing acknowledged is lost to a tombstone,
/// and a replay of the offsets partition gives what memory held.
@Suite struct GroupDeletionTests {
    typealias Harness = GroupCoordinatorTests.Harness
    let partition = TopicPartition(topic: "t", partition: 0)

    func simpleCommit(_ harness: Harness, group: String, offset: Int64) async -> [ErrorCode] {
        await harness.coordinator.commitOffsets(OffsetCommitParameters(groupId: group, generationId: -1, memberId: "", groupInstanceId: nil,
                                                                       offsets: [OffsetToCommit(partition: partition, offset: offset, leaderEpoch: -1, metadata: nil)]))
    }

    func waitForHeldAppends(_ harness: Harness, _ count: Int) async {
        for _ in 0..<1_000_000 where harness.writer.heldAppends < count { await Task.yield() }
        #expect(harness.writer.heldAppends == count, "\(count) appends held")
    }

    /// Before: the group stayed Empty while its tombstones were written, so a join (or a commit)
    /// acknowledged then was followed in the log by the tombstone that undoes it.
    @Test func aGroupBeingDeletedRefusesJoinsAndCommitsRetriablyUntilItsTombstoneIsWritten() async throws {
        let harness = await Harness()
        #expect(await simpleCommit(harness, group: "g", offset: 3) == [.none])
        harness.writer.holdAppends()
        let deletion = Task { await harness.coordinator.deleteGroups(["g"]) }
        await waitForHeldAppends(harness, 1)
        #expect(harness.coordinator.describeGroups(["g"])[0].state == .dead)
        #expect(await harness.coordinator.join(harness.joinRequest(client: "a")).errorCode == .coordinatorNotAvailable)
        let commit = Task { await simpleCommit(harness, group: "g", offset: 4) }
        #expect(await commit.value == [.coordinatorNotAvailable])
        harness.writer.releaseAppends()
        #expect(await deletion.value == [.none])
        #expect(harness.coordinator.listGroups().isEmpty)
        #expect(try harness.coordinator.fetchOffsets(groupId: "g", partitions: nil).get().isEmpty)
        #expect(await harness.coordinator.join(harness.joinRequest(client: "a")).errorCode == .memberIdRequired, "a join after it starts a new group")
    }

    /// Before: the commit was lost in memory (the deletion removed the group it had re-filled)
    /// and in a replay (a group tombstone removed the offsets before it too; Kafka's load keeps
    /// them: offsets have their own tombstones).
    @Test func aCommitAcknowledgedDuringADeletionSurvivesItInMemoryAndInAReplay() async {
        let harness = await Harness()
        harness.writer.holdAppends()
        let commit = Task { await simpleCommit(harness, group: "simple", offset: 5) }
        await waitForHeldAppends(harness, 1)
        let deletion = Task { await harness.coordinator.deleteGroups(["simple"]) }
        await waitForHeldAppends(harness, 2)
        harness.writer.releaseOldestAppend()  // the commit's record, then the group's tombstone
        #expect(await commit.value == [.none])
        harness.writer.releaseAppends()
        #expect(await deletion.value == [.none])
        let held = try? harness.coordinator.fetchOffsets(groupId: "simple", partitions: nil).get()
        #expect(held?.map(\.1?.offset) == [5], "the acknowledged commit is kept")
        let restarted = await Harness(writer: harness.writer)
        let replayed = try? restarted.coordinator.fetchOffsets(groupId: "simple", partitions: nil).get()
        #expect(replayed?.map(\.1?.offset) == [5], "a replay keeps it too")
        #expect(restarted.coordinator.listGroups().map(\.state) == [.empty])
    }

    /// Before: a group stayed forever once its offsets expired, so groups only accumulated.
    @Test func anEmptyGroupWhoseOffsetsAllExpiredIsDeletedAndStaysDeletedAfterAReplay() async {
        let harness = await Harness()
        #expect(await simpleCommit(harness, group: "simple", offset: 5) == [.none])
        let (a, b) = await GroupCoordinatorTests.stableGroup(harness)
        #expect(harness.coordinator.counters.groupsByState == [.empty: 1, .stable: 1, .preparingRebalance: 0, .completingRebalance: 0, .dead: 0])
        _ = harness.coordinator.leave(groupId: "g", members: [LeavingMember(memberId: a, groupInstanceId: nil), LeavingMember(memberId: b, groupInstanceId: nil)])
        await harness.waitFor(.empty, members: 0)
        harness.scheduler.advance(byMs: GroupCoordinatorConfig().offsetsRetentionMs + 1)
        #expect(await harness.coordinator.expireOffsets() == 1)
        #expect(harness.coordinator.listGroups().isEmpty, "both groups are gone: \(harness.coordinator.listGroups())")
        #expect(harness.coordinator.counters.groupsByState.values.reduce(0, +) == 0)
        let restarted = await Harness(writer: harness.writer)
        #expect(restarted.coordinator.listGroups().isEmpty, "and stay gone after a replay: \(restarted.coordinator.listGroups())")
    }
}

/// A clean shutdown keeps the records no request waits for.
@Suite struct MetadataWritesEndedTests {
    typealias Harness = GroupCoordinatorTests.Harness

    @Test func itWaitsForTheRecordOfAGroupGoneEmptyWhichTheNextStartThenReads() async {
        let harness = await Harness()
        let (a, b) = await GroupCoordinatorTests.stableGroup(harness)
        harness.writer.holdAppends()
        _ = harness.coordinator.leave(groupId: "g", members: [LeavingMember(memberId: a, groupInstanceId: nil), LeavingMember(memberId: b, groupInstanceId: nil)])
        for _ in 0..<1_000_000 where harness.writer.heldAppends < 1 { await Task.yield() }
        harness.coordinator.stop()
        let ended = Locked(false)
        let waiting = Task {
            await harness.coordinator.metadataWritesEnded()
            ended.withLock { $0 = true }
        }
        for _ in 0..<10_000 { await Task.yield() }
        #expect(!ended.withLock { $0 }, "the empty group's record is still held")
        harness.writer.releaseAppends()
        await waiting.value
        let restarted = await Harness(writer: harness.writer)
        #expect(restarted.coordinator.describeGroups(["g"])[0].state == .empty)
    }
}

/// OffsetDelete's rules, as Kafka's `handleDeleteOffsets`.
@Suite struct OffsetDeleteRuleTests {
    typealias Harness = GroupCoordinatorTests.Harness

    /// A consumer's subscription (ConsumerProtocolSubscription v0): version, topics, user data.
    static func subscription(_ topics: [String]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0]
        withUnsafeBytes(of: Int32(topics.count).bigEndian) { bytes += $0 }
        for topic in topics {
            withUnsafeBytes(of: Int16(topic.utf8.count).bigEndian) { bytes += $0 }
            bytes += Array(topic.utf8)
        }
        return bytes + [0xFF, 0xFF, 0xFF, 0xFF]
    }

    func commit(_ harness: Harness, group: String, generation: Int32 = -1, member: String = "", _ partitions: [TopicPartition]) async -> [ErrorCode] {
        await harness.coordinator.commitOffsets(OffsetCommitParameters(groupId: group, generationId: generation, memberId: member, groupInstanceId: nil,
                                                                       offsets: partitions.map { OffsetToCommit(partition: $0, offset: 7, leaderEpoch: -1, metadata: nil) }))
    }

    @Test func anEmptyGroupLosesTheOffsetsAskedAndGoesWithTheLastOfThem() async throws {
        let harness = await Harness()
        let zero = TopicPartition(topic: "t", partition: 0), one = TopicPartition(topic: "t", partition: 1)
        #expect(await commit(harness, group: "simple", [zero, one]) == [.none, .none])
        #expect(try await harness.coordinator.deleteOffsets(groupId: "simple", partitions: [zero]).get() == [.none])
        #expect(try harness.coordinator.fetchOffsets(groupId: "simple", partitions: nil).get().map(\.0) == [one])
        #expect(try await harness.coordinator.deleteOffsets(groupId: "simple", partitions: [one, zero]).get() == [.none, .none])
        #expect(harness.coordinator.listGroups().isEmpty, "an empty group with no offsets left is deleted")
        #expect(await harness.coordinator.deleteOffsets(groupId: "simple", partitions: [one]) == .failure(.groupIdNotFound))
    }

    @Test func aConsumerGroupWithMembersKeepsTheOffsetsOfTopicsItSubscribesTo() async throws {
        let harness = await Harness()
        let request = JoinGroupParameters(groupId: "g", memberId: "", groupInstanceId: nil, clientId: "a", clientHost: "/127.0.0.1",
                                          sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, protocolType: "consumer",
                                          protocols: [GroupProtocol(name: "range", metadata: Self.subscription(["orders"]))], requiresKnownMemberId: false)
        let joining = Task { await harness.coordinator.join(request) }
        await harness.waitFor(.preparingRebalance, members: 1)
        harness.scheduler.advance(byMs: 3_000)
        let joined = await joining.value
        #expect(joined.errorCode == .none)
        _ = await harness.coordinator.sync(SyncGroupParameters(groupId: "g", generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: nil,
                                                               protocolType: nil, protocolName: nil, assignments: [(joined.memberId, [])]))
        let orders = TopicPartition(topic: "orders", partition: 0), old = TopicPartition(topic: "old", partition: 0)
        #expect(await commit(harness, group: "g", generation: joined.generationId, member: joined.memberId, [orders, old]) == [.none, .none])
        #expect(try await harness.coordinator.deleteOffsets(groupId: "g", partitions: [orders, old]).get() == [.groupSubscribedToTopic, .none])
        #expect(try harness.coordinator.fetchOffsets(groupId: "g", partitions: nil).get().map(\.0) == [orders])
    }

    @Test func aGroupOfAnotherProtocolTypeWithMembersIsNonEmpty() async {
        let harness = await Harness()
        let request = JoinGroupParameters(groupId: "g", memberId: "", groupInstanceId: nil, clientId: "a", clientHost: "/127.0.0.1",
                                          sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, protocolType: "connect",
                                          protocols: [GroupProtocol(name: "default", metadata: [])], requiresKnownMemberId: false)
        let joining = Task { await harness.coordinator.join(request) }
        await harness.waitFor(.preparingRebalance, members: 1)
        #expect(await harness.coordinator.deleteOffsets(groupId: "g", partitions: [TopicPartition(topic: "t", partition: 0)]) == .failure(.nonEmptyGroup))
        harness.scheduler.advance(byMs: 3_000)
        _ = await joining.value
    }
}
