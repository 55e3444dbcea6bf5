/// When appends are made durable (fsync'd) before they are acknowledged.
public enum FlushPolicy: Sendable, Equatable {
    /// Kafka's `flush.messages` / `flush.ms`: fsync once this many messages or this much time
    /// has accumulated since the last fsync; acknowledge once written to the page cache. Kafka's
    /// defaults (both "never") leave durability to replication and to segment rolls.
    case interval(messages: Int64, milliseconds: Int64)
    /// fsync before acknowledging: one fdatasync covers every append waiting in the group.
    case beforeAcknowledge

    /// Kafka's default: never fsync on the append path.
    public static let kafkaDefault = FlushPolicy.interval(messages: .max, milliseconds: .max)
}

/// Settings of one partition log, named after Kafka's topic configs (defaults as in Kafka).
public struct LogConfig: Sendable, Equatable {
    /// `segment.bytes`: roll when the active segment would grow past this.
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms`: roll when the active segment's first batch is this old.
    public var segmentMs: Int64 = 7 * 24 * 3600 * 1000
    /// `segment.index.bytes`: preallocated size of each index file.
    public var segmentIndexBytes: Int = 10 << 20
    /// `index.interval.bytes`: bytes of log between two index entries.
    public var indexIntervalBytes: Int = 4096
    /// `max.message.bytes`: largest batch accepted.
    public var maxMessageBytes: Int = 1_048_588
    /// `retention.ms`: sealed segments whose newest record is older are deleted; -1 keeps all.
    public var retentionMs: Int64 = 7 * 24 * 3600 * 1000
    /// `retention.bytes`: the oldest sealed segments are deleted while the log is larger; -1: no bound.
    public var retentionBytes: Int64 = -1
    public var flushPolicy: FlushPolicy = .kafkaDefault
    /// Bytes of appends that may wait for the writer; appenders block beyond it.
    public var appendQueueBytesMax: Int = 64 << 20

    public init() {}

    func validated() -> LogConfig {
        precondition(segmentBytes >= 1024 && segmentBytes <= Int(Int32.max), "segment.bytes must be in [1 KiB, 2 GiB)")
        precondition(segmentIndexBytes >= 4 * TimeIndex.entryBytes, "segment.index.bytes must hold a few entries")
        precondition(indexIntervalBytes >= 0, "index.interval.bytes cannot be negative")
        precondition(maxMessageBytes > 0 && appendQueueBytesMax >= maxMessageBytes, "the append queue must hold one batch")
        return self
    }
}
