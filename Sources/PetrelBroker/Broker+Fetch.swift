import Foundation
import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

extension Broker {
    // MARK: Fetch

    /// A range of a segment file to send as it is, through an open descriptor.
    struct FileSlice {
        let descriptor: Int32
        let offset: Int64
        let count: Int
    }

    /// Reads whole batches for each partition; with less than `minBytes`, waits — woken by the
    /// next append — up to `maxWaitMs`. The batches are not copied: the response names ranges of
    /// segment files, sent with `sendfile`.
    func fetch(_ request: FetchRequest) async -> (FetchResponse, [FileSlice]) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, request.maxWaitMs)) * 1_000_000
        while true {
            let generation = appendWaiters.generation
            let (response, files, bytes, hasError) = readFetch(request)
            let now = DispatchTime.now().uptimeNanoseconds
            if bytes >= Int(max(1, request.minBytes)) || hasError || now >= deadline { return (response, files) }
            for file in files { io.close(file.descriptor) }
            await appendWaiters.wait(after: generation, timeoutNanoseconds: deadline - now)
        }
    }

    private func readFetch(_ request: FetchRequest) -> (FetchResponse, [FileSlice], Int, Bool) {
        var budget = Int(max(0, request.maxBytes))
        var total = 0
        var hasError = false
        var topics: [FetchResponse.Topic] = []
        var files: [FileSlice] = []
        for topic in request.topics {
            var partitions: [FetchResponse.Partition] = []
            for partition in topic.partitions {
                guard let log = log(topic.topic, partition.partition) else {
                    partitions.append(.init(partitionIndex: partition.partition, errorCode: .unknownTopicOrPartition,
                                            highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: nil))
                    hasError = true
                    continue
                }
                let end = log.logEndOffset, start = log.logStartOffset
                guard partition.fetchOffset >= start && partition.fetchOffset <= end else {
                    partitions.append(.init(partitionIndex: partition.partition, errorCode: .offsetOutOfRange,
                                            highWatermark: end, lastStableOffset: end, logStartOffset: start, records: nil))
                    hasError = true
                    continue
                }
                var file: FileSlice?
                if partition.fetchOffset < end {
                    // At least one whole batch for the first partition with data, whatever the bounds.
                    let limit = total == 0 ? max(1, min(Int(partition.partitionMaxBytes), budget)) : min(Int(partition.partitionMaxBytes), budget)
                    if limit > 0 {
                        file = try? log.read(fromOffset: partition.fetchOffset, maxBytes: limit) { slice -> FileSlice? in
                            // The first batch always; later ones only within the limit.
                            guard !slice.bytes.isEmpty, total == 0 || slice.bytes.count <= limit else { return nil }
                            // Opened while the log's read lock holds the segment: the bytes below
                            // its published end are final (only replication truncates).
                            let path = SegmentFiles.logPath(log.directory, slice.segmentBaseOffset)
                            let descriptor = try io.open(path, flags: O_RDONLY, mode: 0)
                            return FileSlice(descriptor: descriptor, offset: Int64(slice.filePosition), count: slice.bytes.count)
                        } ?? nil
                    }
                }
                let count = file?.count ?? 0
                total += count
                budget = max(0, budget - count)
                if let file { files.append(file) }
                partitions.append(.init(partitionIndex: partition.partition, errorCode: .none, highWatermark: end,
                                        lastStableOffset: end, logStartOffset: start, records: file == nil ? [] : nil,
                                        externalRecords: file.map { (files.count - 1, $0.count) }))
            }
            topics.append(.init(name: topic.topic, partitions: partitions))
        }
        return (FetchResponse(topics: topics), files, total, hasError)
    }
}
