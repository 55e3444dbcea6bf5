import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Produce

    func produce(_ request: ProduceRequest, version: Int16) async -> ProduceResponse {
        var topics: [ProduceResponse.TopicProduceResponse] = []
        for topic in request.topicData {
            var partitions: [ProduceResponse.PartitionProduceResponse] = []
            var created: Result<TopicInfo, TopicChangeError>?
            if topicInfo(topic.name) == nil { created = autoCreate(topic.name) }
            let storedCodec = topicOverrides(topic.name)["compression.type"].flatMap(TopicConfigs.codec(compressionType:))
            for partition in topic.partitionData {
                guard version >= 3 else {
                    partitions.append(.init(index: partition.index, errorCode: .unsupportedVersion, baseOffset: -1))
                    continue
                }
                if case let .failure(error) = created {
                    partitions.append(.init(index: partition.index, errorCode: error.code, baseOffset: -1, errorMessage: error.message))
                    continue
                }
                guard let log = log(topic.name, partition.index) else {
                    partitions.append(.init(index: partition.index, errorCode: .unknownTopicOrPartition, baseOffset: -1))
                    continue
                }
                if let refusal = Self.checkOneBatch(partition.records?.inlineBytes, version: version) {
                    partitions.append(.init(index: partition.index, errorCode: .invalidRecord, baseOffset: -1, errorMessage: refusal))
                    continue
                }
                var bytes = Array(partition.records?.inlineBytes ?? [])
                // A batch over max.message.bytes is the log's to refuse (MESSAGE_TOO_LARGE), undecoded.
                do {
                    if bytes.count <= log.config.maxMessageBytes { bytes = try Self.validatedRecords(bytes, storing: storedCodec) }
                } catch {
                    partitions.append(.init(index: partition.index, errorCode: .corruptMessage, baseOffset: -1, errorMessage: "\(error)"))
                    logger.debug("produce to \(topic.name)-\(partition.index) refused: \(error)")
                    continue
                }
                do throws(StorageError) {
                    let info = try await log.append(bytes)
                    fetchWaiters.notify(TopicPartition(topic: topic.name, partition: partition.index))
                    partitions.append(.init(index: partition.index, errorCode: .none, baseOffset: info.firstOffset,
                                            logStartOffset: log.logStartOffset))
                } catch {
                    partitions.append(.init(index: partition.index, errorCode: Self.errorCode(for: error), baseOffset: -1, errorMessage: "\(error)"))
                    logger.warning("produce to \(topic.name)-\(partition.index) failed: \(error)")
                }
            }
            topics.append(.init(name: topic.name, partitionResponses: partitions))
        }
        return ProduceResponse(responses: topics)
    }

    /// Kafka's rule for Produce v3 and later (`ProduceRequest.validateRecords`): each partition
    /// carries exactly one record batch; anything else is INVALID_RECORD for that partition.
    /// Returns why the records are refused, or nil. (The batch itself is validated by storage.)
    static func checkOneBatch(_ records: ArraySlice<UInt8>?, version: Int16) -> String? {
        guard let records, records.count >= RecordBatchLayout.logOverheadBytes else {
            return "Produce requests with version \(version) must have at least one record batch per partition"
        }
        let lengthStart = records.startIndex + RecordBatchLayout.lengthPosition
        let length = Int(Int32(bitPattern: records[lengthStart..<lengthStart + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        // A length that is negative or runs past the end is the batch decoder's to report.
        if length >= 0, records.count > RecordBatchLayout.logOverheadBytes + length {
            return "Produce requests with version \(version) are only allowed to contain exactly one record batch per partition"
        }
        return nil
    }

    /// Every record of the batch decoded (decompressed when compressed), as Kafka's
    /// `LogValidator` does: a batch whose CRC matches but whose records or compressed stream are
    /// damaged is CORRUPT_MESSAGE, never stored for consumers to fail on. When the topic's
    /// `compression.type` names another codec, the batch comes back recompressed into it.
    static func validatedRecords(_ bytes: [UInt8], storing codec: CompressionCodec?) throws -> [UInt8] {
        try bytes.withUnsafeBytes { buffer in
            // The log checks the CRC of what it stores; checked here too only when the batch is
            // rebuilt, since a recompressed batch gets a new CRC that would hide the damage.
            let batch = try RecordBatch(parsing: buffer, limits: DecodeLimits(batchBytesMax: Int(Int32.max)), verifyingCRC: codec != nil)
            if let codec, let recompressed = try batch.recompressed(to: codec) { return recompressed }
            try batch.forEachRecord { _ in }
            return bytes
        }
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
