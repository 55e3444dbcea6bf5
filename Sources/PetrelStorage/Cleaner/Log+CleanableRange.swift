/// How much of a compacted log a cleaning pass could clean now, for choosing the dirtiest log
/// (Kafka's `LogCleanerManager.cleanableOffsets` and `grabFilthiestCompactedLog`).
public struct CleanableRange: Sendable, Equatable {
    /// The checkpoint clamped to the log: offsets below are clean.
    public var firstDirtyOffset: Int64
    /// The first offset no pass may clean yet: the active segment's base, the first segment
    /// not wholly published, or the first segment newer than `min.compaction.lag.ms`; always a
    /// segment boundary.
    public var firstUncleanableOffset: Int64
    /// Bytes of the segments below `firstDirtyOffset` (the clean head).
    public var cleanBytes: Int64
    /// Bytes of the segments in `[firstDirtyOffset, firstUncleanableOffset)`.
    public var cleanableBytes: Int64
    /// Whether a dirty record is older than `max.compaction.lag.ms` (KIP-354).
    public var maxCompactionLagExceeded: Bool

    /// `cleanableBytes / (cleanBytes + cleanableBytes)`; 0 for an empty log.
    public var dirtyRatio: Double {
        let total = cleanBytes + cleanableBytes
        return total == 0 ? 0 : Double(cleanableBytes) / Double(total)
    }
}

extension Log {
    /// The range a pass from `checkpoint` would clean at `nowMs`.
    public func cleanableRange(checkpoint: Int64?, nowMs: Int64) throws(StorageError) -> CleanableRange {
        let end = logEndOffset
        let start = logStartOffset
        return try structureLock.withReadLock { () throws(StorageError) -> CleanableRange in
            let activeBase = segments.last!.baseOffset
            // A checkpoint below the log start counts from the start; one past the end (the log
            // was truncated below it) is clamped to the active segment's base, as Kafka clamps
            // it after a truncation: what was cleaned below that is still clean.
            var firstDirty = checkpoint ?? start
            if firstDirty < start { firstDirty = start }
            if firstDirty > end { firstDirty = max(start, activeBase) }
            // Always a segment boundary: the active segment's base, or a sealed segment's.
            var uncleanable = activeBase
            var lagExceeded = false
            var clean: Int64 = 0
            var cleanable: Int64 = 0
            var firstDirtySegment = true
            for index in 0..<(segments.count - 1) {
                let segment = segments[index]
                let segmentEnd = segments[index + 1].baseOffset
                if segmentEnd <= firstDirty {
                    clean += Int64(segment.publishedBytes)
                    continue
                }
                // Not wholly published (a roll under fsync-before-acknowledge): not cleanable.
                if segmentEnd > end {
                    uncleanable = segment.baseOffset
                    break
                }
                if config.minCompactionLagMs > 0 {
                    let largest = try segment.largestTimestamp().timestamp
                    if largest > nowMs - config.minCompactionLagMs {
                        uncleanable = segment.baseOffset
                        break
                    }
                }
                // KIP-354: the first dirty batch waited longer than max.compaction.lag.ms.
                if firstDirtySegment && config.maxCompactionLagMs < .max {
                    let first = try segment.firstBatchTimestamp() ?? -1
                    if first >= 0 && nowMs - config.maxCompactionLagMs > first { lagExceeded = true }
                }
                firstDirtySegment = false
                cleanable += Int64(segment.publishedBytes)
            }
            return CleanableRange(firstDirtyOffset: min(firstDirty, uncleanable), firstUncleanableOffset: uncleanable,
                                  cleanBytes: clean, cleanableBytes: cleanable, maxCompactionLagExceeded: lagExceeded && cleanable > 0)
        }
    }
}
