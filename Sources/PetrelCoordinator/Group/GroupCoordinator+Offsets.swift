public import PetrelProtocol
public import PetrelStorage

extension GroupCoordinator {
    /// OffsetCommit: validates the member and generation (`ClassicGroup.validateOffsetCommit`),
    /// writes one offset-commit record per partition in one batch, and answers once it is
    /// acknowledged; only then do OffsetFetches see the offsets. Returns an error per offset,
    /// in order.
    public func commitOffsets(_ request: OffsetCommitParameters) async -> [ErrorCode] {
        let now = nowMs
        let prepared: Result<(TopicPartition, [UInt8], [Int]), ErrorCode> = update { state, _ in
            if let error = servingError(request.groupId, in: state) { return .failure(error) }
            if let error = validateCommit(request, state: &state) { return .failure(error) }
            var records: [OffsetsTopicRecords.KeyValue] = []
            var written: [Int] = []
            for (index, offset) in request.offsets.enumerated() where (offset.metadata?.utf8.count ?? 0) <= config.offsetMetadataMaxBytes {
                records.append(OffsetsTopicRecords.offsetCommit(group: request.groupId, offset, commitTimestampMs: now))
                written.append(index)
            }
            guard !records.isEmpty else { return .success((offsetsPartition(of: request.groupId), [], written)) }
            do {
                return .success((offsetsPartition(of: request.groupId), try OffsetsTopicRecords.batch(records, timestampMs: now), written))
            } catch {
                preconditionFailure("offset commit records did not encode: \(error)")
            }
        }
        var results = request.offsets.map { _ in ErrorCode.offsetMetadataTooLarge }
        switch prepared {
        case let .failure(error):
            return request.offsets.map { _ in error }
        case let .success((partition, records, written)):
            guard !written.isEmpty else { return results }
            let firstOffset: Int64
            do throws(PartitionWriteError) {
                firstOffset = try await writer.append(records, to: partition)
            } catch {
                state.withLock { $0.counters.failedWrites += 1 }
                let code = Self.coordinatorError(for: error)
                for index in written { results[index] = code }
                return results
            }
            update { state, _ in
                state.counters.offsetCommits += written.count
                for (position, index) in written.enumerated() {
                    let offset = request.offsets[index]
                    let committed = CommittedOffset(offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata ?? "",
                                                    commitTimestampMs: now, recordOffset: firstOffset + Int64(position))
                    applyCommit(committed, for: offset.partition, group: request.groupId, state: &state)
                    results[index] = .none
                }
            }
            return results
        }
    }

    /// Kafka's checks, in its order. A group unknown here gets a commit only from outside group
    /// management (generation -1), which creates it empty, as Kafka does for simple consumers.
    private func validateCommit(_ request: OffsetCommitParameters, state: inout State) -> ErrorCode? {
        guard var group = state.groups[request.groupId] else {
            guard request.generationId < 0 else { return .illegalGeneration }
            state.groups[request.groupId] = ClassicGroup(groupId: request.groupId, nowMs: nowMs)
            return nil
        }
        guard group.state != .dead, !group.expiryInFlight else { return .coordinatorNotAvailable }
        if request.generationId < 0 && group.state == .empty { return nil }
        guard var member = group.members[request.memberId] else { return .unknownMemberId }
        if let fenced = fencingError(request.groupInstanceId, memberId: request.memberId, in: group) { return fenced }
        guard request.generationId == group.generationId else { return .illegalGeneration }
        guard group.state != .completingRebalance else { return .rebalanceInProgress }
        member.sessionDeadlineMs = nowMs + Int64(member.sessionTimeoutMs)
        group.members[request.memberId] = member
        state.groups[request.groupId] = group
        return nil
    }

    /// A commit replaces the one held only when its record is later in the partition, so the
    /// state is the log's whatever order acknowledgements arrive in (and replay agrees).
    func applyCommit(_ committed: CommittedOffset, for partition: TopicPartition, group groupId: String, state: inout State) {
        if state.groups[groupId] == nil { state.groups[groupId] = ClassicGroup(groupId: groupId, nowMs: nowMs) }
        if let held = state.groups[groupId]!.offsets[partition], held.recordOffset > committed.recordOffset { return }
        state.groups[groupId]!.offsets[partition] = committed
    }

    /// OffsetFetch: the committed offset of each partition asked (nil: every partition with
    /// one); a partition without one is answered with offset -1. Returns the group's error
    /// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) or the offsets.
    public func fetchOffsets(groupId: String, partitions: [TopicPartition]?) -> Result<[(TopicPartition, CommittedOffset?)], ErrorCode> {
        state.withLock { state in
            if let error = servingError(groupId, in: state) { return .failure(error) }
            let offsets = state.groups[groupId]?.offsets ?? [:]
            guard let partitions else {
                return .success(offsets.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map { ($0, offsets[$0]) })
            }
            return .success(partitions.map { ($0, offsets[$0]) })
        }
    }
}
