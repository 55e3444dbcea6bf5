import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Produce

    func produce(_ request: ProduceRequest, version: Int16) async -> ProduceResponse {
        var topics: [ProduceResponse.Topic] = []
        for topic in request.topics {
            var partitions: [ProduceResponse.Partition] = []
            for partition in topic.partitions {
                guard version >= 3 else {
                    partitions.append(.init(index: partition.index, errorCode: .unsupportedVersion))
                    continue
                }
                if topicInfo(topic.name) == nil, config.autoCreateTopics, TopicPartition.isValidTopicName(topic.name) {
                    _ = try? createTopic(topic.name, partitions: config.numPartitions)
                }
                guard let log = log(topic.name, partition.index) else {
                    partitions.append(.init(index: partition.index, errorCode: .unknownTopicOrPartition))
                    continue
                }
                guard let records = partition.records, !records.isEmpty else {
                    partitions.append(.init(index: partition.index, errorCode: .corruptMessage, errorMessage: "no records"))
                    continue
                }
                do throws(StorageError) {
                    let info = try await log.append(Array(records))
                    appendWaiters.notifyAll()
                    partitions.append(.init(index: partition.index, errorCode: .none, baseOffset: info.firstOffset,
                                            logStartOffset: log.logStartOffset))
                } catch {
                    partitions.append(.init(index: partition.index, errorCode: Self.errorCode(for: error), errorMessage: "\(error)"))
                    logger.warning("produce to \(topic.name)-\(partition.index) failed: \(error)")
                }
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        return ProduceResponse(topics: topics)
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
        guard let id = try? producerIds.next() else {
            return InitProducerIdResponse(errorCode: .kafkaStorageError, producerId: -1, producerEpoch: -1)
        }
        return InitProducerIdResponse(producerId: id, producerEpoch: 0)
    }

    static func errorCode(for error: StorageError) -> ErrorCode {
        switch error.code {
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .invalidBatch: .corruptMessage
        case .batchTooLarge: .messageTooLarge
        case .invalidAppend: .invalidRecord
        case .offsetOutOfRange: .offsetOutOfRange
        default: .kafkaStorageError
        }
    }
}
