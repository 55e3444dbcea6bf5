import Dispatch
import Foundation
import PetrelProtocol
import PetrelStorage

extension ReplicaManager {
    /// Which records a consumer may see: everything below the high watermark, or (once
    /// transactions exist) only below the last stable offset.
    enum IsolationLevel: Sendable {
        case readUncommitted
        case readCommitted
    }

    struct FetchTopic: Sendable {
        var topic: String
        var partitions: [FetchPartition]
    }

    struct FetchPartition: Sendable {
        var partition: Int32
        var fetchOffset: Int64
        var partitionMaxBytes: Int32
    }

    /// One fetch: its partitions, and how long to wait for how many bytes.
    struct FetchParameters: Sendable {
        var topics: [FetchTopic]
        var maxWaitMs: Int32
        var minBytes: Int32
        var maxBytes: Int32
        var isolation: IsolationLevel
    }

    /// A range of a segment file to send as it is: a lease, released once the response is
    /// written (or dropped), so that retention or a truncation meanwhile cannot take the bytes.
    typealias FileSlice = SegmentLease

    struct FetchPartitionResult: Sendable {
        var partition: Int32
        var errorCode: ErrorCode
        var highWatermark: Int64 = -1
        var lastStableOffset: Int64 = -1
        var logStartOffset: Int64 = -1
        /// The records, as an index into `FetchResult.files`; nil for none.
        var fileIndex: Int?
    }

    struct FetchResult: Sendable {
        /// Per topic of the request, the partitions answered (a repeated one only once).
        var topics: [[FetchPartitionResult]]
        var files: [FileSlice]
        /// Record bytes in the result (the sum of `files`' counts).
        var bytes: Int
        var hasError: Bool
        /// The partitions read, with the high watermark seen: what a long poll waits to change.
        var observed: [(partition: Partition, highWatermark: Int64)]
    }

    /// Reads whole batches for each partition; with less than `minBytes`, waits — woken by the
    /// next append to one of its partitions — up to `maxWaitMs`. The batches are not copied: the
    /// result names ranges of segment files, sent with `sendfile`.
    ///
    /// The result holds at most min(`maxBytes`, `fetch.max.bytes`) of records (but always a
    /// first whole batch, as Kafka does), and each partition once: a partition named again in
    /// the same fetch is answered once, from its first mention (Kafka keeps one entry per
    /// partition too), so no request can make a response grow with repetition.
    func fetchMessages(_ parameters: FetchParameters) async -> FetchResult {
        let waitMs = min(max(0, Int64(parameters.maxWaitMs)), fetchWaitMsMax)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(waitMs) * 1_000_000
        while true {
            let read = await executor.run { [self] in readFetch(parameters) }
            let now = DispatchTime.now().uptimeNanoseconds
            if read.bytes >= Int(max(1, parameters.minBytes)) || read.hasError || now >= deadline || Task.isCancelled {
                return read
            }
            for file in read.files { file.release() }
            let observed = read.observed
            await purgatory.wait(on: observed.map { .partition($0.partition.topicPartition) },
                                 timeoutMs: Int64((deadline - now) / 1_000_000) + 1) {
                observed.allSatisfy { $0.partition.highWatermark == $0.highWatermark }
            }
        }
    }

    private func readFetch(_ parameters: FetchParameters) -> FetchResult {
        var budget = max(0, min(Int(parameters.maxBytes), fetchBytesMax))
        var read = FetchResult(topics: [], files: [], bytes: 0, hasError: false, observed: [])
        var seen = Set<TopicPartition>()
        for topic in parameters.topics {
            var partitions: [FetchPartitionResult] = []
            for request in topic.partitions {
                if request.partition >= 0, TopicPartition.isValidTopicName(topic.topic),
                   !seen.insert(TopicPartition(topic: topic.topic, partition: request.partition)).inserted {
                    continue
                }
                let answer = readPartition(topic: topic.topic, request, budget: &budget, into: &read)
                if answer.errorCode != .none { read.hasError = true }
                partitions.append(answer)
            }
            read.topics.append(partitions)
        }
        return read
    }

    private func readPartition(topic: String, _ request: FetchPartition, budget: inout Int, into read: inout FetchResult) -> FetchPartitionResult {
        guard let partition = partition(topic, request.partition) else {
            return FetchPartitionResult(partition: request.partition, errorCode: .unknownTopicOrPartition)
        }
        let log = partition.log
        let end = partition.highWatermark, start = partition.logStartOffset
        func failed(_ code: ErrorCode) -> FetchPartitionResult {
            FetchPartitionResult(partition: request.partition, errorCode: code, highWatermark: end, lastStableOffset: end, logStartOffset: start)
        }
        guard request.fetchOffset >= start && request.fetchOffset <= end else { return failed(.offsetOutOfRange) }
        read.observed.append((partition, end))
        var file: FileSlice?
        // At least one whole batch for the first partition with data, whatever the bounds.
        let limit = read.bytes == 0 ? max(1, min(Int(request.partitionMaxBytes), budget)) : min(Int(request.partitionMaxBytes), budget)
        if request.fetchOffset < end && limit > 0 {
            do {
                file = try log.read(fromOffset: request.fetchOffset, maxBytes: limit, passingOverEmptySegments: true) { slice -> FileSlice? in
                    // The first batch always; later ones only within the limit.
                    guard !slice.bytes.isEmpty, read.bytes == 0 || slice.bytes.count <= limit else { return nil }
                    // Leased while the log's read lock holds the segment: retention or a
                    // truncation before the response is written cannot take the bytes away.
                    return try slice.lease()
                }
            } catch {
                logger.error("fetch from \(topic)-\(request.partition) at offset \(request.fetchOffset) failed: \(error)")
                return failed(Self.fetchErrorCode(for: error))
            }
        }
        var result = FetchPartitionResult(partition: request.partition, errorCode: .none, highWatermark: end,
                                          lastStableOffset: partition.lastStableOffset, logStartOffset: start)
        if let file {
            read.bytes += file.count
            budget = max(0, budget - file.count)
            read.files.append(file)
            result.fileIndex = read.files.count - 1
        }
        return result
    }
}
