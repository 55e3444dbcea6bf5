import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Produce

    func produce(_ request: ProduceRequest, version: Int16) async -> ProduceResponse {
        var entries: [ReplicaManager.AppendEntry] = []
        var answered: [[ReplicaManager.AppendResult?]] = []
        for topic in request.topics {
            var created: Result<TopicRegistry.TopicInfo, TopicRegistry.TopicChangeError>?
            if topics.info(topic.name) == nil { created = await executor.run { [topics] in topics.autoCreate(topic.name) } }
            let storedCodec = topics.overrides(of: topic.name)["compression.type"].flatMap(TopicConfigs.codec(compressionType:))
            answered.append(topic.partitions.map { partition in
                guard version >= 3 else { return .init(errorCode: .unsupportedVersion) }
                if case let .failure(error) = created { return .init(errorCode: error.code, errorMessage: error.message) }
                entries.append(.init(partition: TopicPartition(topic: topic.name, partition: partition.index), records: partition.records,
                                     storedCodec: storedCodec))
                return nil
            })
        }
        var appended = await replicaManager.appendRecords(entries, produceVersion: version).makeIterator()
        return ProduceResponse(topics: zip(request.topics, answered).map { topic, results in
            .init(name: topic.name, partitions: zip(topic.partitions, results).map { partition, result in
                let result = result ?? appended.next()!
                return .init(index: partition.index, errorCode: result.errorCode, baseOffset: result.baseOffset,
                             logStartOffset: result.logStartOffset, errorMessage: result.errorMessage)
            })
        })
    }

    // MARK: InitProducerId

    /// Idempotent producers get a fresh id at epoch 0, or their own id with the epoch bumped when
    /// they ask (KIP-360). Transactions are not implemented yet.
    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        guard request.transactionalId == nil else {
            return InitProducerIdResponse(errorCode: .transactionalIdAuthorizationFailed, producerId: -1, producerEpoch: -1)
        }
        if request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < Int16.max {
            return InitProducerIdResponse(producerId: request.producerId, producerEpoch: request.producerEpoch + 1)
        }
        do throws(StorageError) {
            return InitProducerIdResponse(producerId: try producerIds.next(), producerEpoch: 0)
        } catch {
            logger.error("reserving producer ids failed: \(error)")
            return InitProducerIdResponse(errorCode: .kafkaStorageError, producerId: -1, producerEpoch: -1)
        }
    }
}
