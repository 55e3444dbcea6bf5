public import PetrelProtocol

extension KafkaCluster {
    /// OffsetFetch for every partition `groupId` has committed, at `coordinator`.
    public func committedOffsets(of groupId: String, at coordinator: KafkaConnection) async throws(ClientError) -> CommittedOffsets {
        let version = try coordinator.version(of: .offsetFetch)
        var result = CommittedOffsets()
        // v8 batches groups; before it, one group with the answer's topics at the top level.
        // A null topic list asks for all of the group's partitions (v2+).
        if version >= 8 {
            let request = OffsetFetchRequest(groups: [.init(groupId: groupId, topics: nil)])
            let response = try await coordinator.send(request, version: version, as: OffsetFetchResponse.self)
            guard let group = response.groups.first(where: { $0.groupId == groupId }) else {
                throw ClientError(broker: coordinator.address, .brokerError(api: .offsetFetch, .unknownServerError, message: "no answer for the group"))
            }
            result.errorCode = group.errorCode
            for topic in group.topics {
                for partition in topic.partitions {
                    result.add(TopicPartition(topic.name, partition.partitionIndex), offset: partition.committedOffset, errorCode: partition.errorCode)
                }
            }
        } else {
            let request = OffsetFetchRequest(groupId: groupId, topics: nil)
            let response = try await coordinator.send(request, version: version, as: OffsetFetchResponse.self)
            result.errorCode = response.errorCode
            for topic in response.topics {
                for partition in topic.partitions {
                    result.add(TopicPartition(topic.name, partition.partitionIndex), offset: partition.committedOffset, errorCode: partition.errorCode)
                }
            }
        }
        return result
    }

    /// ListOffsets for each partition at its leader (from Metadata): `timestamp` is
    /// `ListOffsetsRequest.latestTimestamp`, `.earliestTimestamp` or a time in milliseconds.
    /// A partition's answer is its offset (−1: no record at or after the time) or its error.
    public func logOffsets(of partitions: [TopicPartition], at timestamp: Int64) async throws(ClientError) -> [TopicPartition: Result<Int64, ErrorCode>] {
        var answers: [TopicPartition: Result<Int64, ErrorCode>] = [:]
        let wanted = Set(partitions)
        let metadata = try await metadata(topics: Array(Set(partitions.map(\.topic))).sorted())
        var byLeader: [Int32: [TopicPartition]] = [:]
        for topic in metadata.topics {
            guard let name = topic.name else { continue }
            for partition in topic.partitions {
                let key = TopicPartition(name, partition.partitionIndex)
                guard wanted.contains(key) else { continue }
                let error = topic.errorCode != .none ? topic.errorCode : partition.errorCode
                if error != .none || partition.leaderId < 0 {
                    answers[key] = .failure(error != .none ? error : .leaderNotAvailable)
                } else {
                    byLeader[partition.leaderId, default: []].append(key)
                }
            }
        }
        // What Metadata does not list does not exist.
        let routed = Set(byLeader.values.joined())
        for partition in wanted where answers[partition] == nil && !routed.contains(partition) {
            answers[partition] = .failure(.unknownTopicOrPartition)
        }
        for (leader, owned) in byLeader.sorted(by: { $0.key < $1.key }) {
            let connection = try await connection(toNode: leader)
            let topics = Dictionary(grouping: owned, by: \.topic).sorted { $0.key < $1.key }.map { topic, partitions in
                ListOffsetsRequest.ListOffsetsTopic(name: topic, partitions: partitions.map { .init(partitionIndex: $0.partition, timestamp: timestamp) })
            }
            // Replica id −1: a consumer, which sees offsets up to the high watermark.
            let response = try await connection.send(ListOffsetsRequest(replicaId: -1, topics: topics), as: ListOffsetsResponse.self)
            for topic in response.topics {
                for partition in topic.partitions {
                    let key = TopicPartition(topic.name, partition.partitionIndex)
                    guard wanted.contains(key) else { continue }
                    answers[key] = partition.errorCode == .none ? .success(partition.offset) : .failure(partition.errorCode)
                }
            }
            for partition in owned where answers[partition] == nil { answers[partition] = .failure(.unknownServerError) }
        }
        return answers
    }

    /// OffsetCommit of `offsets` for `groupId` as an administrator does it: generation −1 and no
    /// member id, which a group without active members accepts. Each partition's answer.
    public func commitOffsets(_ offsets: [TopicPartition: Int64], for groupId: String,
                              at coordinator: KafkaConnection) async throws(ClientError) -> [TopicPartition: ErrorCode] {
        let topics = Dictionary(grouping: offsets.keys, by: \.topic).sorted { $0.key < $1.key }.map { topic, partitions in
            OffsetCommitRequest.OffsetCommitRequestTopic(name: topic, partitions: partitions.sorted().map {
                .init(partitionIndex: $0.partition, committedOffset: offsets[$0]!)
            })
        }
        let request = OffsetCommitRequest(groupId: groupId, generationIdOrMemberEpoch: -1, memberId: "", topics: topics)
        let response = try await coordinator.send(request, as: OffsetCommitResponse.self)
        var answers: [TopicPartition: ErrorCode] = [:]
        for topic in response.topics {
            for partition in topic.partitions { answers[TopicPartition(topic.name, partition.partitionIndex)] = partition.errorCode }
        }
        for partition in offsets.keys where answers[partition] == nil { answers[partition] = .unknownServerError }
        return answers
    }
}
