extension Log {
    /// Applies `retention.ms` and `retention.bytes` (Kafka's `deleteOldSegments`) to a log whose
    /// `cleanup.policy` has `delete`: deletes the
    /// oldest sealed segments whose newest record is older than `retention.ms`, then, while the
    /// log is larger than `retention.bytes`, the oldest sealed segments that keep it above the
    /// bound. The active segment is never deleted. The log start offset moves to the first offset
    /// left. Returns the number of segments deleted.
    @discardableResult
    public func applyRetention(nowMs: Int64? = nil) throws(StorageError) -> Int {
        let nowMs = nowMs ?? Log.nowMs()
        // A compact-only log keeps every key's last record however old (Kafka applies time and
        // size retention only with `delete` in `cleanup.policy`).
        guard config.cleanupPolicy.contains(.delete) else { return 0 }
        let (newStart, count) = try structureLock.withReadLock { () throws(StorageError) -> (Int64?, Int) in
            var total = Int64(segments.reduce(0) { $0 + $1.publishedBytes })
            var deleted = 0
            for segment in segments.dropLast() {
                let expired: Bool
                if config.retentionMs >= 0, let newest = try newestTimestamp(of: segment) {
                    expired = newest < nowMs - config.retentionMs
                } else {
                    expired = false
                }
                let oversized = config.retentionBytes >= 0 && total - Int64(segment.publishedBytes) >= config.retentionBytes
                guard expired || oversized else { break }
                total -= Int64(segment.publishedBytes)
                deleted += 1
            }
            return (deleted > 0 ? segments[deleted].baseOffset : nil, deleted)
        }
        guard let newStart, newStart > logStartOffset else { return 0 }
        setLogStartOffset(min(newStart, logEndOffset))
        try deleteSegmentsBelowLogStart()
        return count
    }

    /// The largest timestamp in a sealed segment: its time index's final entry (written when it
    /// was sealed), or nil when it holds none.
    private func newestTimestamp(of segment: Segment) throws(StorageError) -> Int64? {
        let index = try segment.readableTimeIndex()
        guard let last = index.last, last.timestamp >= 0 else { return nil }
        return last.timestamp
    }
}
