import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension GroupCoordinator {
    /// Replays an offsets partition that became led here, from its log start to its high
    /// watermark, into groups and offsets; until then its groups are answered
    /// COORDINATOR_LOAD_IN_PROGRESS. A group with members comes back Stable with their
    /// assignments, and each member's session starts again now.
    func load(partition index: Int32) async {
        state.withLock { $0.partitions[index] = .loading }
        let partition = TopicPartition(topic: config.offsetsTopic, partition: index)
        var replay = OffsetsReplay(nowMs: nowMs)
        do throws(PartitionWriteError) {
            var offset: Int64 = 0
            while true {
                let read = try await writer.read(partition, fromOffset: offset, maxBytes: config.loadBufferBytes)
                offset = max(offset, read.logStartOffset)
                guard offset < read.highWatermark else { break }
                let next = try replay.apply(read.records, partition: partition, highWatermark: read.highWatermark)
                guard next > offset else { break }  // nothing readable: stop rather than spin
                offset = next
            }
        } catch {
            // The partition is not served: its groups get NOT_COORDINATOR, and clients look again.
            update { state, _ in
                state.partitions[index] = nil
                state.counters.failedWrites += 1
            }
            return
        }
        update { state, effects in
            for (groupId, group) in replay.groups where self.partition(for: groupId) == index {
                state.groups[groupId] = group
                for (memberId, member) in group.members {
                    armSessionTimer(groupId, memberId, afterMs: Int64(member.sessionTimeoutMs), effects: &effects)
                }
            }
            state.partitions[index] = .loaded
        }
    }

    /// Leadership of an offsets partition moved away: its groups are dropped, and whatever
    /// their members have parked is answered NOT_COORDINATOR.
    func unload(partition index: Int32) {
        update { state, effects in
            state.partitions[index] = nil
            for (groupId, group) in state.groups where partition(for: groupId) == index {
                for member in group.members.values { effects.fail(member, with: .notCoordinator) }
                state.groups[groupId] = nil
            }
        }
    }

    /// Stops serving every group (the broker is shutting down): whatever members have parked —
    /// a JoinGroup waiting out a rebalance may wait minutes — is answered NOT_COORDINATOR now,
    /// so no request holds shutdown up; the clients find the coordinator again.
    public func stop() {
        let loaded = state.withLock { Array($0.partitions.keys) }
        for partition in loaded { unload(partition: partition) }
    }

    /// Writes the group's metadata record as it is now, without anyone waiting for it (a group
    /// that went empty, a static member replaced). A failure is counted; the next rebalance
    /// writes the group again.
    func persistGroup(_ groupId: String) {
        state.withLock { state in
            guard let group = state.groups[groupId], group.protocolType != nil else { return }
            let records: [UInt8]
            do {
                records = try OffsetsTopicRecords.batch([OffsetsTopicRecords.groupMetadata(group)], timestampMs: nowMs)
            } catch {
                preconditionFailure("a group metadata record did not encode: \(error)")
            }
            let write = chainedMetadataWrite(records, group: groupId, state: &state)
            Task {
                if case .failure = await write.value { self.state.withLock { $0.counters.failedWrites += 1 } }
            }
        }
    }
}

/// Groups and offsets rebuilt from an offsets partition's records, in log order.
struct OffsetsReplay {
    var groups: [String: ClassicGroup] = [:]
    let nowMs: Int64

    init(nowMs: Int64) { self.nowMs = nowMs }

    /// Applies the batches in `bytes` below `highWatermark`; returns the offset after the last
    /// one applied. Control batches are skipped (transactional offsets come with transactions).
    mutating func apply(_ bytes: [UInt8], partition: TopicPartition, highWatermark: Int64) throws(PartitionWriteError) -> Int64 {
        var next: Int64 = -1
        var undecodable: String?
        do {
            // Untyped: a typed-throws closure here crashes Swift 6.3.1's IR generation.
            try bytes.withUnsafeBytes { buffer in
                var reader = RecordBatchReader(buffer)
                while undecodable == nil, let batch = try reader.next() {
                    guard batch.baseOffset < highWatermark else { break }
                    next = batch.nextOffset
                    if batch.isControl { continue }
                    try batch.forEachRecord { record in
                        guard undecodable == nil, let key = record.key else { return }
                        do {
                            apply(try ConsumerOffsetsRecord.decode(key: [UInt8](key), value: record.value.map { [UInt8]($0) }), at: record.offset)
                        } catch {
                            undecodable = "the record at offset \(record.offset) does not decode: \(error)"
                        }
                    }
                }
            }
        } catch {
            throw PartitionWriteError(.storage, partition: partition, message: "replaying \(partition): \(error)")
        }
        // A record Petrel cannot read would change the groups if it could: stop, do not guess.
        if let undecodable { throw PartitionWriteError(.invalidRecords, partition: partition, message: "replaying \(partition): \(undecodable)") }
        return next
    }

    mutating func apply(_ record: ConsumerOffsetsRecord, at recordOffset: Int64) {
        switch record {
        case let .offsetCommit(key, value):
            let partition = TopicPartition(topic: key.topic, partition: key.partition)
            if let value {
                if groups[key.group] == nil { groups[key.group] = ClassicGroup(groupId: key.group, nowMs: nowMs) }
                groups[key.group]!.offsets[partition] = CommittedOffset(offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata,
                                                                        commitTimestampMs: value.commitTimestamp, recordOffset: recordOffset)
            } else if groups[key.group] != nil {
                groups[key.group]!.offsets[partition] = nil
                // A group known only by its offsets is gone with the last of them.
                if groups[key.group]!.protocolType == nil && groups[key.group]!.offsets.isEmpty { groups[key.group] = nil }
            }
        case let .groupMetadata(key, value):
            guard let value else {
                // Kafka's load: a group tombstone removes the group's metadata, not its offsets
                // (those have their own tombstones); a group left with offsets is Empty.
                if let offsets = groups[key.group]?.offsets, !offsets.isEmpty {
                    var survivor = ClassicGroup(groupId: key.group, nowMs: nowMs)
                    survivor.offsets = offsets
                    groups[key.group] = survivor
                } else {
                    groups[key.group] = nil
                }
                return
            }
            var group = ClassicGroup(groupId: key.group, nowMs: nowMs)
            group.offsets = groups[key.group]?.offsets ?? [:]
            group.generationId = value.generation
            group.protocolType = value.protocolType
            group.protocolName = value.protocol
            for stored in value.members {
                group.add(GroupMember(memberId: stored.memberId, groupInstanceId: stored.groupInstanceId, clientId: stored.clientId,
                                      clientHost: stored.clientHost, rebalanceTimeoutMs: stored.rebalanceTimeout,
                                      sessionTimeoutMs: stored.sessionTimeout, protocolType: value.protocolType,
                                      protocols: [GroupProtocol(name: value.protocol ?? "", metadata: stored.subscription)],
                                      assignment: stored.assignment, sessionDeadlineMs: nowMs + Int64(stored.sessionTimeout)))
            }
            group.leaderId = value.leader.flatMap { group.members[$0] == nil ? nil : $0 } ?? group.memberOrder.first
            group.state = group.members.isEmpty ? .empty : .stable
            if value.currentStateTimestamp >= 0 { group.stateTimestampMs = value.currentStateTimestamp }
            groups[key.group] = group
        case .other:
            break
        }
    }
}
