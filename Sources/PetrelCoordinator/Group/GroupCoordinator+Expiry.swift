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
    /// in the partition — in memory as in a replay.
    ///
    /// While a group's tombstones are on their way, its commits are refused with the retriable
    /// COORDINATOR_NOT_AVAILABLE: a commit written before them would be removed by them, and an
    /// acknowledged commit must not be lost. The group itself stays (Empty): deleting it would
    /// need a tombstone that a concurrent join could be written before. Returns how many offsets
    /// expired.
    @discardableResult
    public func expireOffsets() async -> Int {
        let now = nowMs
        let plans: [(groupId: String, partition: TopicPartition, expired: [TopicPartition], records: [UInt8])] = state.withLock { state in
            var plans: [(groupId: String, partition: TopicPartition, expired: [TopicPartition], records: [UInt8])] = []
            for (groupId, group) in state.groups where state.partitions[partition(for: groupId)] == .loaded && group.state == .empty && !group.expiryInFlight {
                let expired = group.offsets.filter { _, committed in
                    now - (group.protocolType == nil ? committed.commitTimestampMs : group.stateTimestampMs) > config.offsetsRetentionMs
                }.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                guard !expired.isEmpty else { continue }
                do {
                    let records = try OffsetsTopicRecords.batch(expired.map { OffsetsTopicRecords.offsetTombstone(group: groupId, partition: $0) }, timestampMs: now)
                    plans.append((groupId, offsetsPartition(of: groupId), expired, records))
                    state.groups[groupId]!.expiryInFlight = true
                } catch {
                    preconditionFailure("expiry tombstones did not encode: \(error)")
                }
            }
            return plans
        }
        var count = 0
        for plan in plans {
            let firstOffset: Int64?
            do throws(PartitionWriteError) {
                firstOffset = try await writer.append(plan.records, to: plan.partition)
            } catch {
                firstOffset = nil
            }
            state.withLock { state in
                state.groups[plan.groupId]?.expiryInFlight = false
                guard let firstOffset else {
                    state.counters.failedWrites += 1
                    return
                }
                var removed = 0
                for (index, partition) in plan.expired.enumerated() {
                    guard let held = state.groups[plan.groupId]?.offsets[partition], held.recordOffset < firstOffset + Int64(index) else { continue }
                    state.groups[plan.groupId]!.offsets[partition] = nil
                    removed += 1
                }
                state.counters.expiredOffsets += removed
                count += removed
            }
        }
        return count
    }
}
