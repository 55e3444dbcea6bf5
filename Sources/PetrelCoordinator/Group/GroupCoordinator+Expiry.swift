import PetrelProtocol
import PetrelStorage

extension GroupCoordinator {
    /// Starts the periodic search for expired offsets (every
    /// `offsets.retention.check.interval.ms`).
    func scheduleExpiry() {
        scheduler.schedule(afterMs: config.offsetsRetentionCheckIntervalMs) { [weak self] in
            guard let self else { return }
            Task {
                await self.expireOffsets()
                self.scheduleExpiry()
            }
        }
    }

    /// Kafka's rule (`ClassicGroup.offsetExpirationCondition`): the offsets of an empty group
    /// expire `offsets.retention.minutes` after it became empty; those of a group outside group
    /// management (no protocol type), that long after each commit. A group with members keeps
    /// them all. Expired offsets are tombstoned, and a tombstone removes the offset it follows
    /// in the partition — in memory as in a replay. An empty group left with no offset is
    /// deleted in the same batch (its own tombstone), as Kafka's `cleanupGroupMetadata` does, so
    /// groups do not pile up.
    ///
    /// While a group's tombstones are on their way, its commits are refused with the retriable
    /// COORDINATOR_NOT_AVAILABLE (`prepareTombstones`): a commit written before them would be
    /// removed by them, and an acknowledged commit must not be lost. Returns how many offsets
    /// expired.
    @discardableResult
    public func expireOffsets() async -> Int {
        let now = nowMs
        let plans: [GroupTombstones] = state.withLock { state in
            var plans: [GroupTombstones] = []
            for (groupId, group) in state.groups where state.partitions[partition(for: groupId)] == .loaded && group.state == .empty && !group.expiryInFlight {
                let expired = group.offsets.filter { _, committed in
                    now - (group.protocolType == nil ? committed.commitTimestampMs : group.stateTimestampMs) > config.offsetsRetentionMs
                }.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                let deletingGroup = expired.count == group.offsets.count
                guard !expired.isEmpty || deletingGroup else { continue }
                plans.append(prepareTombstones(groupId, offsets: expired, deletingGroup: deletingGroup, state: &state))
            }
            return plans
        }
        var count = 0
        for plan in plans {
            guard case let .success(removed) = await write(plan) else { continue }
            state.withLock { $0.counters.expiredOffsets += removed }
            count += removed
        }
        return count
    }
}
