import PetrelFormat
import PetrelProtocol
import PetrelStorage

/// The group coordinator's records in the offsets topic, in Kafka's own encoding
/// (`ConsumerOffsetsRecord`: offset commit key v1 / value v3, group metadata key v2 / value v3),
/// and the batches that carry them.
enum OffsetsTopicRecords {
    typealias KeyValue = (key: [UInt8], value: [UInt8]?)

    static func offsetCommit(group: String, _ offset: OffsetToCommit, commitTimestampMs: Int64) -> KeyValue {
        let record = ConsumerOffsetsRecord.offsetCommit(
            OffsetCommitKey(group: group, topic: offset.partition.topic, partition: offset.partition.partition),
            OffsetCommitValue(offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata ?? "",
                              commitTimestamp: commitTimestampMs))
        return encode(record)
    }

    static func offsetTombstone(group: String, partition: TopicPartition) -> KeyValue {
        encode(.offsetCommit(OffsetCommitKey(group: group, topic: partition.topic, partition: partition.partition), nil))
    }

    static func groupMetadata(_ group: ClassicGroup) -> KeyValue {
        let members = group.memberOrder.compactMap { id -> GroupMetadataValue.MemberMetadata? in
            guard let member = group.members[id] else { return nil }
            return GroupMetadataValue.MemberMetadata(memberId: id, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                                                     clientHost: member.clientHost, rebalanceTimeout: member.rebalanceTimeoutMs,
                                                     sessionTimeout: member.sessionTimeoutMs,
                                                     subscription: member.metadata(for: group.protocolName), assignment: member.assignment)
        }
        let value = GroupMetadataValue(protocolType: group.protocolType ?? "", generation: group.generationId, protocol: group.protocolName,
                                       leader: group.leaderId, currentStateTimestamp: group.stateTimestampMs, members: members)
        return encode(.groupMetadata(GroupMetadataKey(group: group.groupId), value))
    }

    static func groupTombstone(_ groupId: String) -> KeyValue {
        encode(.groupMetadata(GroupMetadataKey(group: groupId), nil))
    }

    private static func encode(_ record: ConsumerOffsetsRecord) -> KeyValue {
        do {
            let encoded = try record.encoded()
            return (encoded.key, encoded.value)
        } catch {
            preconditionFailure("a \(record) did not encode: \(error)")
        }
    }

    /// One uncompressed batch of `records`, all stamped `timestampMs`.
    static func batch(_ records: [KeyValue], timestampMs: Int64) throws(FormatError) -> [UInt8] {
        var builder = RecordBatchBuilder()
        for record in records { builder.append(key: record.key, value: record.value, timestamp: timestampMs) }
        return try builder.build()
    }
}
