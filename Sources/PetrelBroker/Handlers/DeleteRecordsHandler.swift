import PetrelProtocol

extension DeleteRecordsRequest {
    /// The offset that asks to delete everything below the high watermark.
    static let highWatermarkOffset: Int64 = -1
}

/// DeleteRecords (key 21), v0–2: moves partitions' log start offsets (Kafka's
/// `AdminClient.deleteRecords`); the low watermark in the answer is the new log start offset.
struct DeleteRecordsHandler: RequestHandler {
    let replicaManager: ReplicaManager
    let executor: StorageExecutor
    let partitionsMax: Int
    var versions: ClosedRange<Int16> { 0...2 }
    var respondsOnly: Bool { false }

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) async -> HandlerResult<DeleteRecordsResponse> {
        let count = request.topics.reduce(0) { $0 + $1.partitions.count }
        guard count <= partitionsMax else {
            return .respond(DeleteRecordsResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, lowWatermark: -1, errorCode: .policyViolation) })
            }))
        }
        // Blocking: segments below the new start are deleted.
        return .respond(await executor.run { [replicaManager] in
            DeleteRecordsResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { partition in
                    let (code, low) = replicaManager.deleteRecords(topic.name, partition.partitionIndex, before: partition.offset)
                    return .init(partitionIndex: partition.partitionIndex, lowWatermark: low, errorCode: code)
                })
            })
        })
    }
}
