import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Fetch

    /// A range of a segment file to send as it is: a lease, released once the response is
    /// written (or dropped).
    typealias FileSlice = SegmentLease

    /// What one pass over a fetch's partitions found.
    struct FetchRead {
        var response: FetchResponse
        var files: [FileSlice]
        /// Record bytes in the response (the sum of `files`' counts).
        var bytes: Int
        var hasError: Bool
        /// The partitions read, with the log end offset seen: what a long poll waits to change.
        var observed: [(partition: TopicPartition, log: Log, logEndOffset: Int64)]
    }

    /// Reads whole batches for each partition; with less than `minBytes`, waits — woken by the
    /// next append to one of its partitions — up to `maxWaitMs`. The batches are not copied: the
    /// response names ranges of segment files, sent with `sendfile`.
    ///
    /// The response holds at most min(`max_bytes`, `fetch.max.bytes`) of records (but always a
    /// first whole batch, as Kafka does), and each partition once: a partition named again in
    /// the same request is answered once, from its first mention (Kafka keeps one entry per
    /// partition too), so no request can make a response grow with repetition.
    func fetch(_ request: FetchRequest) async -> (FetchResponse, [FileSlice]) {
        let waitMs = UInt64(min(max(0, Int64(request.maxWaitMs)), config.fetchWaitMsMax))
        let deadline = DispatchTime.now().uptimeNanoseconds + waitMs * 1_000_000
        while true {
            let read = readFetch(request)
            let now = DispatchTime.now().uptimeNanoseconds
            if read.bytes >= Int(max(1, request.minBytes)) || read.hasError || now >= deadline || Task.isCancelled {
                return (read.response, read.files)
            }
            for file in read.files { file.release() }
            await fetchWaiters.wait(for: read.observed, timeoutNanoseconds: deadline - now)
        }
    }

    private func readFetch(_ request: FetchRequest) -> FetchRead {
        var budget = max(0, min(Int(request.maxBytes), config.fetchBytesMax))
        var read = FetchRead(response: FetchResponse(topics: []), files: [], bytes: 0, hasError: false, observed: [])
        var seen = Set<TopicPartition>()
        for topic in request.topics {
            var partitions: [FetchResponse.Partition] = []
            for partition in topic.partitions {
                if partition.partition >= 0, TopicPartition.isValidTopicName(topic.topic),
                   !seen.insert(TopicPartition(topic: topic.topic, partition: partition.partition)).inserted {
                    continue
                }
                let answer = readPartition(topic: topic.topic, partition, budget: &budget, into: &read)
                if answer.errorCode != .none { read.hasError = true }
                partitions.append(answer)
            }
            if !partitions.isEmpty { read.response.topics.append(.init(name: topic.topic, partitions: partitions)) }
        }
        return read
    }

    /// One partition's answer. A partition with an error carries an empty record set, never a
    /// null one: librdkafka rejects a null set as "invalid MessageSetSize -1" and never applies
    /// `auto.offset.reset` (Kafka sends an empty set too).
    private func readPartition(topic: String, _ partition: FetchRequest.Partition, budget: inout Int,
                               into read: inout FetchRead) -> FetchResponse.Partition {
        func failed(_ code: ErrorCode, end: Int64 = -1, start: Int64 = -1) -> FetchResponse.Partition {
            .init(partitionIndex: partition.partition, errorCode: code, highWatermark: end, lastStableOffset: end,
                  logStartOffset: start, records: [])
        }
        guard let log = log(topic, partition.partition) else { return failed(.unknownTopicOrPartition) }
        let end = log.logEndOffset, start = log.logStartOffset
        guard partition.fetchOffset >= start && partition.fetchOffset <= end else { return failed(.offsetOutOfRange, end: end, start: start) }
        read.observed.append((TopicPartition(topic: topic, partition: partition.partition), log, end))
        var file: FileSlice?
        // At least one whole batch for the first partition with data, whatever the bounds.
        let limit = read.bytes == 0 ? max(1, min(Int(partition.partitionMaxBytes), budget)) : min(Int(partition.partitionMaxBytes), budget)
        if partition.fetchOffset < end && limit > 0 {
            do {
                file = try log.read(fromOffset: partition.fetchOffset, maxBytes: limit) { slice -> FileSlice? in
                    // The first batch always; later ones only within the limit.
                    guard !slice.bytes.isEmpty, read.bytes == 0 || slice.bytes.count <= limit else { return nil }
                    // Leased while the log's read lock holds the segment: retention or a
                    // truncation before the response is written cannot take the bytes away.
                    return try slice.lease()
                }
            } catch {
                logger.error("fetch from \(topic)-\(partition.partition) at offset \(partition.fetchOffset) failed: \(error)")
                return failed(Self.fetchErrorCode(for: error), end: end, start: start)
            }
        }
        let count = file?.count ?? 0
        read.bytes += count
        budget = max(0, budget - count)
        if let file { read.files.append(file) }
        return .init(partitionIndex: partition.partition, errorCode: .none, highWatermark: end, lastStableOffset: end,
                     logStartOffset: start, records: file == nil ? [] : nil, externalRecords: file.map { (read.files.count - 1, $0.count) })
    }

    /// A read that failed: the offset moved out of range under it (retention), or the storage
    /// could not read it (KAFKA_STORAGE_ERROR: the client retries, and the error is logged).
    static func fetchErrorCode(for error: any Error) -> ErrorCode {
        if let error = error as? StorageError, case .offsetOutOfRange = error.code { return .offsetOutOfRange }
        return .kafkaStorageError
    }
}
