import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension ReplicaManager {
    /// The records a produce carries for one partition.
    struct AppendEntry: Sendable {
        var partition: TopicPartition
        /// As sent: a range of the request frame, which it keeps alive.
        var records: RecordBytes?
        /// The topic's `compression.type` when it names a codec: batches are stored in it.
        var storedCodec: CompressionCodec?
    }

    /// What an append of one partition came to.
    struct AppendResult: Sendable, Equatable {
        var errorCode: ErrorCode
        var errorMessage: String?
        var baseOffset: Int64 = -1
        var logStartOffset: Int64 = -1
        /// Per-record errors (index in the batch, why), for INVALID_RECORD.
        var recordErrors: [RecordError] = []
    }

    struct RecordError: Sendable, Equatable {
        var index: Int32
        var message: String
    }

    /// Appends each entry's records to its partition — the partitions of one request
    /// concurrently, a partition named twice in order — and returns once each is acknowledged
    /// under its log's flush policy (on a single node that is `acks=all` too: the leader is the
    /// whole ISR). Results are in the entries' order.
    func appendRecords(_ entries: [AppendEntry], produceVersion: Int16) async -> [AppendResult] {
        var byPartition: [TopicPartition: [Int]] = [:]
        for (index, entry) in entries.enumerated() { byPartition[entry.partition, default: []].append(index) }
        return await withTaskGroup(of: [(Int, AppendResult)].self) { group in
            for indices in byPartition.values {
                group.addTask {
                    var results: [(Int, AppendResult)] = []
                    for index in indices { results.append((index, await self.append(entries[index], produceVersion: produceVersion))) }
                    return results
                }
            }
            var results = [AppendResult?](repeating: nil, count: entries.count)
            for await partitionResults in group {
                for (index, result) in partitionResults { results[index] = result }
            }
            return results.map { $0! }
        }
    }

    private func append(_ entry: AppendEntry, produceVersion: Int16) async -> AppendResult {
        guard let partition = partition(entry.partition) else { return AppendResult(errorCode: .unknownTopicOrPartition) }
        if let refusal = Self.checkOneBatch(entry.records, version: produceVersion) {
            return AppendResult(errorCode: .invalidRecord, errorMessage: refusal)
        }
        // Not nil: checkOneBatch refuses a null record set.
        guard let records = entry.records else { return AppendResult(errorCode: .invalidRecord) }
        let log = partition.log
        // A batch over max.message.bytes is the log's to refuse (MESSAGE_TOO_LARGE), undecoded.
        var recompressed: [UInt8]?
        do {
            if records.count <= log.config.maxMessageBytes {
                recompressed = try Self.validatedRecords(records.unsafeBytes, storing: entry.storedCodec)
            }
        } catch {
            logger.debug("produce to \(entry.partition) refused: \(error)")
            return AppendResult(errorCode: .corruptMessage, errorMessage: "\(error)")
        }
        do throws(StorageError) {
            // As sent, the frame's bytes go to pwritev with no copy (the log keeps them alive
            // until written); only a batch rebuilt in another codec is new memory.
            let info = if let recompressed { try await log.append(recompressed) } else { try await log.append(LentRecords(records: records)) }
            purgatory.notify(.partition(entry.partition))
            return AppendResult(errorCode: .none, baseOffset: info.firstOffset, logStartOffset: log.logStartOffset)
        } catch {
            if case let .recordsWithoutKey(indexes) = error.code {
                // As Kafka answers it (LogValidator): each record named, the message quoting the first three.
                let errors = indexes.map {
                    RecordError(index: $0, message: "Compacted topic cannot accept message without key in topic partition \(entry.partition).")
                }
                return AppendResult(errorCode: .invalidRecord, errorMessage: "One or more records have been rejected due to \(errors.count) record errors in total, and only showing the first three errors at most: \(errors.prefix(3).map { "(\($0.index), \($0.message))" })",
                                    recordErrors: errors)
            }
            logger.warning("produce to \(entry.partition) failed: \(error)")
            return AppendResult(errorCode: Self.errorCode(for: error), errorMessage: "\(error)")
        }
    }

    /// Kafka's rule for Produce v3 and later (`ProduceRequest.validateRecords`): each partition
    /// carries exactly one record batch; anything else is INVALID_RECORD for that partition.
    /// Returns why the records are refused, or nil. (The batch itself is validated by storage.)
    static func checkOneBatch(_ recordBytes: RecordBytes?, version: Int16) -> String? {
        guard let records = recordBytes?.unsafeBytes, records.count >= RecordBatchLayout.logOverheadBytes else {
            return "Produce requests with version \(version) must have at least one record batch per partition"
        }
        let length = Int(Int32(bigEndian: records.loadUnaligned(fromByteOffset: RecordBatchLayout.lengthPosition, as: Int32.self)))
        // A length that is negative or runs past the end is the batch decoder's to report.
        if length >= 0, records.count > RecordBatchLayout.logOverheadBytes + length {
            return "Produce requests with version \(version) are only allowed to contain exactly one record batch per partition"
        }
        return nil
    }

    /// Every record of the batch decoded (decompressed when compressed), as Kafka's
    /// `LogValidator` does: a batch whose CRC matches but whose records or compressed stream are
    /// damaged is CORRUPT_MESSAGE, never stored for consumers to fail on. When the topic's
    /// `compression.type` names another codec, the batch comes back recompressed into it;
    /// otherwise nil: the bytes are stored as they are. Reads `bytes` in place.
    static func validatedRecords(_ bytes: UnsafeRawBufferPointer, storing codec: CompressionCodec?) throws -> [UInt8]? {
        // The log checks the CRC of what it stores; checked here too only when the batch is
        // rebuilt, since a recompressed batch gets a new CRC that would hide the damage.
        let batch = try RecordBatch(parsing: bytes, limits: DecodeLimits(batchBytesMax: Int(Int32.max)), verifyingCRC: codec != nil)
        if let codec, let recompressed = try batch.recompressed(to: codec) { return recompressed }
        try batch.forEachRecord { _ in }
        return nil
    }
}

/// A produce's records lent to the log as they are in the request frame: the log keeps this
/// value, and with it the frame, alive until its `pwritev` is done.
struct LentRecords: AppendableBytes {
    let records: RecordBytes
    var unsafeBytes: UnsafeRawBufferPointer { records.unsafeBytes }
}
