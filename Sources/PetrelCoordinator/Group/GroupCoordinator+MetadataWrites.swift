import PetrelStorage

/// A write of a group's metadata record or tombstone, in the order its group's writes were
/// decided.
typealias MetadataWrite = Task<Result<Int64, PartitionWriteError>, Never>

extension GroupCoordinator {
    /// Starts appending `records` (a group metadata record or tombstone of `groupId`) once every
    /// such write of the group started before it has ended. Called under the lock, where the
    /// change it records was made: the log then holds a group's records in the order the group
    /// went through them, which replay depends on. Appends of one partition may otherwise land
    /// in any order — seen: a group's empty-group record written after its tombstone brought the
    /// deleted group back at the next start.
    func chainedMetadataWrite(_ records: [UInt8], group groupId: String, state: inout State) -> MetadataWrite {
        let previous = state.metadataWrites[groupId]?.task
        let sequence = state.nextMetadataWrite
        state.nextMetadataWrite += 1
        let partition = offsetsPartition(of: groupId)
        let task = MetadataWrite { [writer] in
            _ = await previous?.value
            let result: Result<Int64, PartitionWriteError>
            do throws(PartitionWriteError) {
                result = .success(try await writer.append(records, to: partition))
            } catch {
                result = .failure(error)
            }
            // The last write of the group forgets itself; a later one is the chain's end now.
            // (This waits for the lock its creator holds, so the entry below is there.)
            self.state.withLock { state in
                if state.metadataWrites[groupId]?.sequence == sequence { state.metadataWrites[groupId] = nil }
            }
            return result
        }
        state.metadataWrites[groupId] = (sequence, task)
        return task
    }

    /// Waits until every group metadata write started so far has ended (written or failed): a
    /// broker shutting down cleanly calls it after `stop()` and before closing its logs, so that
    /// a group that went empty just before is not brought back with its members by the next
    /// start. Each group's last write ends after the ones before it.
    public func metadataWritesEnded() async {
        let last = state.withLock { $0.metadataWrites.values.map(\.task) }
        for write in last { _ = await write.value }
    }
}
