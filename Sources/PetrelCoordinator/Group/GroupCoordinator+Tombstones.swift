import PetrelProtocol
import PetrelStorage

/// Tombstones for some of a group's offsets (expiry, OffsetDelete), or for all of them and the
/// group itself (DeleteGroups, or once an Empty group has none left), as Kafka's
/// `cleanupGroupMetadata`.
struct GroupTombstones {
    let groupId: String
    /// The offsets the tombstones remove, in the order of their records.
    let offsets: [TopicPartition]
    /// Whether the group's own tombstone follows: the group is Dead until the batch is written.
    let deletesGroup: Bool
    /// The batch's append, after the group's metadata writes started before it.
    let write: MetadataWrite
}

extension GroupCoordinator {
    /// Prepares the tombstones of `offsets` of an Empty group, under the lock, and marks the group
    /// so that nothing is acknowledged meanwhile that the tombstones would remove: Dead when the
    /// group goes too (joins, syncs and commits answer the retriable COORDINATOR_NOT_AVAILABLE,
    /// as Kafka does for a group being removed), else `expiryInFlight` (commits wait).
    ///
    /// - Parameter holdingCommits: whether commits wait (expiry: an offset acknowledged just
    ///   before must not expire). OffsetDelete does not hold them: a commit racing an operator's
    ///   delete may land on either side of it, and memory follows the log either way.
    func prepareTombstones(_ groupId: String, offsets: [TopicPartition], deletingGroup: Bool, holdingCommits: Bool = true,
                           state: inout State) -> GroupTombstones {
        precondition(!deletingGroup || state.groups[groupId]?.state == .empty, "group \(groupId) deleted while not empty")
        var records = offsets.map { OffsetsTopicRecords.offsetTombstone(group: groupId, partition: $0) }
        if deletingGroup { records.append(OffsetsTopicRecords.groupTombstone(groupId)) }
        let batch: [UInt8]
        do {
            batch = try OffsetsTopicRecords.batch(records, timestampMs: nowMs)
        } catch {
            preconditionFailure("group tombstones did not encode: \(error)")
        }
        if deletingGroup {
            state.groups[groupId]!.markDeleting()
        } else if holdingCommits {
            state.groups[groupId]!.expiryInFlight = true
        }
        return GroupTombstones(groupId: groupId, offsets: offsets, deletesGroup: deletingGroup,
                               write: chainedMetadataWrite(batch, group: groupId, state: &state))
    }

    /// Awaits the tombstones' write and applies them once acknowledged: the offsets they follow are
    /// removed, and a deleted group goes — unless a commit validated before the deletion was
    /// acknowledged meanwhile, whose record is later: the group then stays, Empty, with that
    /// offset, as a replay of the partition gives (a group tombstone removes the group's
    /// metadata, not its offsets). A failed write changes nothing. Returns how many offsets
    /// were removed, or the error.
    func write(_ tombstones: GroupTombstones) async -> Result<Int, ErrorCode> {
        let firstOffset: Int64
        switch await tombstones.write.value {
        case let .success(offset):
            firstOffset = offset
        case let .failure(error):
            state.withLock { state in
                state.counters.failedWrites += 1
                guard state.groups[tombstones.groupId] != nil else { return }
                state.groups[tombstones.groupId]!.expiryInFlight = false
                if tombstones.deletesGroup && state.groups[tombstones.groupId]!.state == .dead { state.groups[tombstones.groupId]!.undoDeath() }
            }
            return .failure(Self.coordinatorError(for: error))
        }
        return .success(state.withLock { state in
            // The partition may have moved away meanwhile: nothing here to apply it to.
            guard var group = state.groups[tombstones.groupId] else { return 0 }
            group.expiryInFlight = false
            var removed = 0
            for (index, partition) in tombstones.offsets.enumerated() {
                guard let held = group.offsets[partition], held.recordOffset < firstOffset + Int64(index) else { continue }
                group.offsets[partition] = nil
                removed += 1
            }
            if tombstones.deletesGroup && group.state == .dead {
                if group.offsets.isEmpty {
                    state.groups[tombstones.groupId] = nil
                } else {
                    var survivor = ClassicGroup(groupId: tombstones.groupId, nowMs: nowMs)
                    survivor.offsets = group.offsets
                    state.groups[tombstones.groupId] = survivor
                }
            } else {
                state.groups[tombstones.groupId] = group
            }
            return removed
        })
    }
}
