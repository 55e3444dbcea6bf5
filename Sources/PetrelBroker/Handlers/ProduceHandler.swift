import PetrelProtocol
import PetrelStorage

/// Produce (key 0), v0–9 advertised: librdkafka before 2.11.1 disables compression unless v0
/// is; v0–2 (message sets, not RecordBatch v2) are answered UNSUPPORTED_VERSION per partition.
struct ProduceHandler: RequestHandler {
    let topics: TopicRegistry
    let replicaManager: ReplicaManager
    let executor: StorageExecutor
    var versions: ClosedRange<Int16> { 0...9 }
    var respondsOnly: Bool { false }

    func handle(_ request: ProduceRequest, context: RequestContext) async -> HandlerResult<ProduceResponse> {
        let version = context.apiVersion
        var entries: [ReplicaManager.AppendEntry] = []
        var answered: [[ReplicaManager.AppendResult?]] = []
        for topic in request.topicData {
            var created: Result<TopicRegistry.TopicInfo, TopicRegistry.TopicChangeError>?
            if topics.info(topic.name) == nil { created = await executor.run { [topics] in topics.autoCreate(topic.name) } }
            let storedCodec = topics.storedCodec(of: topic.name)
            answered.append(topic.partitionData.map { partition in
                guard version >= 3 else { return .init(errorCode: .unsupportedVersion) }
                if case let .failure(error) = created { return .init(errorCode: error.code, errorMessage: error.message) }
                // A name or index no log can have is no partition here (and no TopicPartition).
                guard partition.index >= 0, TopicPartition.isValidTopicName(topic.name) else { return .init(errorCode: .unknownTopicOrPartition) }
                entries.append(.init(partition: TopicPartition(topic: topic.name, partition: partition.index),
                                     records: partition.records?.recordBytes, storedCodec: storedCodec))
                return nil
            })
        }
        var appended = await replicaManager.appendRecords(entries, produceVersion: version).makeIterator()
        guard request.acks != 0 else { return .noResponse }
        return .respond(ProduceResponse(responses: zip(request.topicData, answered).map { topic, results in
            .init(name: topic.name, partitionResponses: zip(topic.partitionData, results).map { partition, result in
                let result = result ?? appended.next()!
                return .init(index: partition.index, errorCode: result.errorCode, baseOffset: result.baseOffset,
                             logStartOffset: result.logStartOffset,
                             recordErrors: result.recordErrors.map { .init(batchIndex: $0.index, batchIndexErrorMessage: $0.message) },
                             errorMessage: result.errorMessage)
            })
        }))
    }
}
