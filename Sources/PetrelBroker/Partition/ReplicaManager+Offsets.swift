import PetrelProtocol
import PetrelStorage

extension ReplicaManager {
    /// An offset looked up for ListOffsets; -1s when there is none.
    struct OffsetLookup: Sendable, Equatable {
        var errorCode: ErrorCode
        var timestamp: Int64 = -1
        var offset: Int64 = -1
        var leaderEpoch: Int32 = -1
    }

    /// The earliest (-2), latest (-1), max-timestamp (-3) or first offset at or after
    /// `timestamp` of a partition. Blocking: a lookup by timestamp reads indexes and segments.
    func offset(_ topic: String, _ index: Int32, forTimestamp timestamp: Int64) -> OffsetLookup {
        guard let partition = partition(topic, index) else { return OffsetLookup(errorCode: .unknownTopicOrPartition) }
        switch timestamp {
        case ListOffsetsRequest.earliestTimestamp:
            return OffsetLookup(errorCode: .none, offset: partition.logStartOffset, leaderEpoch: partition.leaderEpoch)
        case ListOffsetsRequest.latestTimestamp:
            return OffsetLookup(errorCode: .none, offset: partition.highWatermark, leaderEpoch: partition.leaderEpoch)
        default:
            do {
                let found = timestamp == ListOffsetsRequest.maxTimestamp
                    ? try partition.log.offsetOfMaxTimestamp() : try partition.log.offset(forTimestamp: timestamp)
                guard let found else { return OffsetLookup(errorCode: .none) }
                return OffsetLookup(errorCode: .none, timestamp: found.timestamp, offset: found.offset, leaderEpoch: partition.leaderEpoch)
            } catch {
                logger.error("ListOffsets of \(topic)-\(index) at timestamp \(timestamp) failed: \(error)")
                return OffsetLookup(errorCode: Self.fetchErrorCode(for: error))
            }
        }
    }

    /// Where a leader epoch ends: a single node has one epoch, 0, which ends at the log end.
    func endOffset(_ topic: String, _ index: Int32, forLeaderEpoch _: Int32) -> (errorCode: ErrorCode, leaderEpoch: Int32, endOffset: Int64) {
        guard let partition = partition(topic, index) else { return (.unknownTopicOrPartition, -1, -1) }
        return (.none, partition.leaderEpoch, partition.log.logEndOffset)
    }
}

extension ReplicaManager {
    /// DeleteRecords of one partition: moves its log start offset up to `offset` (-1: the high
    /// watermark) and deletes the segments wholly below it. Returns the new log start offset (the
    /// low watermark). Blocking: segments are deleted.
    func deleteRecords(_ topic: String, _ index: Int32, before offset: Int64) -> (errorCode: ErrorCode, lowWatermark: Int64) {
        guard let partition = partition(topic, index) else { return (.unknownTopicOrPartition, -1) }
        let target = offset == DeleteRecordsRequest.highWatermarkOffset ? partition.highWatermark : offset
        // Kafka: below zero (other than -1) or past the high watermark is OFFSET_OUT_OF_RANGE.
        guard target >= 0, target <= partition.highWatermark else { return (.offsetOutOfRange, -1) }
        do throws(StorageError) {
            try partition.log.deleteRecords(before: target)
        } catch {
            logger.error("DeleteRecords of \(topic)-\(index) before \(offset) failed: \(error)")
            return (Self.errorCode(for: error), -1)
        }
        return (.none, partition.logStartOffset)
    }
}
