import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Fetch

    /// Decodes a fetch into the replica manager's terms and its result back into a response;
    /// the record batches stay in their segment files (`sendfile`).
    func fetch(_ request: FetchRequest) async -> (FetchResponse, [ReplicaManager.FileSlice]) {
        let parameters = ReplicaManager.FetchParameters(
            topics: request.topics.map { topic in
                .init(topic: topic.topic, partitions: topic.partitions.map {
                    .init(partition: $0.partition, fetchOffset: $0.fetchOffset, partitionMaxBytes: $0.partitionMaxBytes)
                })
            },
            maxWaitMs: request.maxWaitMs, minBytes: request.minBytes, maxBytes: request.maxBytes,
            isolation: request.isolationLevel == 1 ? .readCommitted : .readUncommitted)
        let result = await replicaManager.fetchMessages(parameters)
        var response = FetchResponse(topics: [])
        for (topic, partitions) in zip(request.topics, result.topics) where !partitions.isEmpty {
            // A partition with an error carries an empty record set, never a null one:
            // librdkafka rejects a null set as "invalid MessageSetSize -1" and never applies
            // `auto.offset.reset` (Kafka sends an empty set too).
            response.topics.append(.init(name: topic.topic, partitions: partitions.map { partition in
                .init(partitionIndex: partition.partition, errorCode: partition.errorCode, highWatermark: partition.highWatermark,
                      lastStableOffset: partition.lastStableOffset, logStartOffset: partition.logStartOffset,
                      records: partition.fileIndex == nil ? [] : nil,
                      externalRecords: partition.fileIndex.map { ($0, result.files[$0].count) })
            }))
        }
        return (response, result.files)
    }
}
