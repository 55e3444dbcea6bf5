internal import PetrelFormat

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

/// Kafka's `cleanup.policy`: what removes old records from a log. `delete` applies
/// `retention.ms`/`retention.bytes` to whole segments; `compact` keeps the last record of every
/// key (the cleaner); both may be set (`compact,delete`), or neither (the log keeps everything).
public struct CleanupPolicy: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let delete = CleanupPolicy(rawValue: 1)
    public static let compact = CleanupPolicy(rawValue: 2)

    /// Kafka's spelling: a comma-separated list of `delete` and `compact`; the empty list (Kafka
    /// 4.1 accepts it) is neither — no segment is ever deleted or compacted.
    public init?(kafkaName: String) {
        var policy: CleanupPolicy = []
        guard !kafkaName.isEmpty else {
            self = []
            return
        }
        for part in kafkaName.split(separator: ",", omittingEmptySubsequences: false) {
            switch String(part.filter { $0 != " " }) {
            case "delete": policy.insert(.delete)
            case "compact": policy.insert(.compact)
            default: return nil
            }
        }
        guard !policy.isEmpty else { return nil }
        self = policy
    }

    public var description: String {
        [contains(.compact) ? "compact" : nil, contains(.delete) ? "delete" : nil].compactMap { $0 }.joined(separator: ",")
    }
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
    /// `cleanup.policy`.
    public var cleanupPolicy: CleanupPolicy = .delete
    /// `min.cleanable.dirty.ratio`: a compacted log is cleaned once the share of its bytes not
    /// yet cleaned passes this.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `min.compaction.lag.ms`: a record stays uncompacted at least this long.
    public var minCompactionLagMs: Int64 = 0
    /// `max.compaction.lag.ms`: a record not yet compacted after this long makes its log
    /// eligible whatever its dirty ratio.
    public var maxCompactionLagMs: Int64 = .max
    /// `delete.retention.ms`: how long a tombstone stays after its batch was first cleaned.
    public var deleteRetentionMs: Int64 = 86_400_000
    /// Bytes of appends that may wait for the writer; appenders block beyond it.
    public var appendQueueBytesMax: Int = 64 << 20

    public init() {}

    /// Kafka's `producer.id.expiration.ms`: an idempotent producer whose last batch's timestamp
    /// is older than this is forgotten (at snapshots and by a `LogManager`'s background pass).
    public var producerIdExpirationMs: Int64 = 86_400_000

    /// The config itself when every setting is in range, else a typed error naming the first
    /// setting out of range (its Kafka topic-level name, and the broker-level one), its value,
    /// and what is allowed. Kafka's ranges, narrowed where Petrel needs more (said per setting).
    /// `Log.open` calls this; a broker can call it on configs built from operator input first.
    ///
    /// A `segment.bytes` below `max.message.bytes` is accepted, as in Kafka: a batch larger than
    /// the segment is refused at append with `.batchTooLarge` (Kafka's RecordBatchTooLargeException).
    /// - Throws: `StorageError.Code.invalidConfig`.
    public func validated() throws(StorageError) -> LogConfig {
        func check<T: FixedWidthInteger>(_ topic: String, _ broker: String, _ value: T, _ range: ClosedRange<T>, _ why: String) throws(StorageError) {
            guard !range.contains(value) else { return }
            let requirement = range.upperBound == T.max
                ? "must be at least \(range.lowerBound)" : "must be in [\(range.lowerBound), \(range.upperBound)]"
            throw StorageError(.invalidConfig(LogConfigProblem(setting: topic, brokerSetting: broker, value: String(value),
                                                               requirement: "\(requirement) (\(why))")))
        }
        // Kafka's minimum is 14 (a legacy v0 record); below one RecordBatch v2 header no batch
        // fits, and positions in the offset index are int32.
        try check("segment.bytes", "log.segment.bytes", Int64(segmentBytes), Self.segmentBytesRange,
                  "the smallest RecordBatch v2 is \(Self.segmentBytesMinimum) bytes; offset-index positions are int32")
        try check("segment.ms", "log.roll.ms", segmentMs, 1...Int64.max, "Kafka's minimum")
        // Kafka's minimum is 4; a time index keeps its last slot for the entry written at the roll,
        // so two 12-byte time-index entries (and one 8-byte offset-index entry) is the least that works.
        try check("segment.index.bytes", "log.index.size.max.bytes", Int64(segmentIndexBytes), Self.segmentIndexBytesRange,
                  "two 12-byte time-index entries, one of them kept for the roll")
        try check("index.interval.bytes", "log.index.interval.bytes", indexIntervalBytes, 0...Int(Int32.max), "Kafka's range")
        try check("max.message.bytes", "message.max.bytes", Int64(maxMessageBytes), Self.maxMessageBytesRange, "Kafka's range")
        try check("retention.ms", "log.retention.ms", retentionMs, -1...Int64.max, "-1 keeps everything")
        try check("retention.bytes", "log.retention.bytes", retentionBytes, -1...Int64.max, "-1 means no bound")
        try check("producer.id.expiration.ms", "producer.id.expiration.ms", producerIdExpirationMs, 1...Int64.max, "Kafka's minimum")
        if case let .interval(messages, milliseconds) = flushPolicy {
            try check("flush.messages", "log.flush.interval.messages", messages, 1...Int64.max, "Kafka's minimum")
            try check("flush.ms", "log.flush.interval.ms", milliseconds, 0...Int64.max, "Kafka's minimum")
        }
        try check("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", minCompactionLagMs, 0...Int64.max, "Kafka's minimum")
        try check("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", maxCompactionLagMs, 1...Int64.max, "Kafka's minimum")
        try check("delete.retention.ms", "log.cleaner.delete.retention.ms", deleteRetentionMs, 0...Int64.max, "Kafka's minimum")
        guard minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1 else {
            throw StorageError(.invalidConfig(LogConfigProblem(setting: "min.cleanable.dirty.ratio", brokerSetting: "log.cleaner.min.cleanable.ratio",
                                                               value: String(minCleanableDirtyRatio), requirement: "must be in [0, 1] (Kafka's range)")))
        }
        // The queue admits one append whatever its size when empty, so any positive bound works.
        try check("appendQueueBytesMax", "appendQueueBytesMax", appendQueueBytesMax, 1...Int.max, "Petrel's own setting")
        return self
    }

    /// The smallest `segment.bytes` Petrel accepts: one RecordBatch v2 header.
    public static var segmentBytesMinimum: Int { RecordBatchLayout.headerBytes }
    /// The smallest `segment.index.bytes` Petrel accepts.
    public static let segmentIndexBytesMinimum = 2 * 12
}

/// A log setting out of range: its Kafka topic-level name (`segment.bytes`), the broker-level
/// name it comes from (`log.segment.bytes`), the value given and what is allowed.
public struct LogConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public let setting: String
    public let brokerSetting: String
    public let value: String
    public let requirement: String

    public var description: String {
        let names = setting == brokerSetting ? setting : "\(setting) (broker: \(brokerSetting))"
        return "\(names)=\(value) is out of range: \(requirement)"
    }
}
