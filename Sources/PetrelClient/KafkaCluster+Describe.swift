import PetrelProtocol

extension KafkaCluster {
    /// Describes `groupId` at its coordinator, with offsets and lag per partition (see
    /// `ConsumerGroupDescription`). Only the consumer protocol's assignments are decoded.
    public func describeConsumerGroup(_ groupId: String) async throws(ClientError) -> ConsumerGroupDescription {
        let coordinator = try await coordinator(ofGroup: groupId)
        guard let group = try await describeGroups([groupId], on: coordinator).first(where: { $0.groupId == groupId }) else {
            throw ClientError(broker: coordinator.address, .brokerError(api: .describeGroups, .unknownServerError, message: "no answer for the group"))
        }
        let members = group.members.map { member in
            var decoded = ConsumerGroupDescription.Member(memberId: member.memberId, groupInstanceId: member.groupInstanceId,
                                                          clientId: member.clientId, clientHost: member.clientHost, assignment: [])
            if group.protocolType == "consumer" {
                do throws(ProtocolError) {
                    decoded.assignment = try ConsumerProtocolAssignment.decode(member.memberAssignment).partitions
                } catch {
                    decoded.assignmentError = "\(error)"
                }
            }
            return decoded
        }
        let committed = try await committedOffsets(of: groupId, at: coordinator)
        var owners: [TopicPartition: String] = [:]
        for member in members { for partition in member.assignment { owners[partition] = member.memberId } }
        let partitions = Set(committed.offsets.keys).union(committed.partitionErrors.keys).union(owners.keys).sorted()
        var ends: [TopicPartition: Result<Int64, ErrorCode>] = [:]
        if !partitions.isEmpty { ends = try await logOffsets(of: partitions, at: ListOffsetsRequest.latestTimestamp) }
        let lags = partitions.map { partition in
            let offset = committed.offsets[partition]
            var errorCode = committed.partitionErrors[partition] ?? .none
            var end: Int64?
            switch ends[partition] {
            case let .success(value)?: end = value
            case let .failure(code)?: if errorCode == .none { errorCode = code }
            case nil: break
            }
            let lag = offset.flatMap { offset in end.map { max(0, $0 - offset) } }
            return ConsumerGroupDescription.PartitionLag(partition: partition, committedOffset: offset, logEndOffset: end, lag: lag,
                                                         owner: owners[partition], errorCode: errorCode)
        }
        return ConsumerGroupDescription(groupId: groupId, coordinator: coordinator.address, errorCode: group.errorCode, state: group.groupState,
                                        protocolType: group.protocolType, protocolName: group.protocolData, members: members,
                                        offsetsErrorCode: committed.errorCode, partitions: lags)
    }
}
