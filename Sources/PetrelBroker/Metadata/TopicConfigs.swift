import PetrelFormat
import PetrelStorage

/// Per-topic configuration overrides (CreateTopics' `configs`), checked with Kafka's names and
/// ranges, turned into the `LogConfig` of the topic's partitions.
///
/// Names Kafka does not know are INVALID_CONFIG. Of the names it knows, those Petrel applies
/// change the log; those that mean nothing on a single node (replication throttles, unclean
/// leader election) are kept and shown; those asking for a behaviour Petrel does not have yet
/// (log-append time) are refused rather than accepted and ignored, since a client relying on
/// them would lose data or order silently.
enum TopicConfigs {
    /// Kafka's topic-level config names (`TopicConfig.java`, Kafka 3.x/4.x).
    static let kafkaNames: Set<String> = [
        "cleanup.policy", "compression.type", "compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
        "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms", "follower.replication.throttled.replicas",
        "index.interval.bytes", "leader.replication.throttled.replicas", "local.retention.bytes", "local.retention.ms",
        "max.compaction.lag.ms", "max.message.bytes", "message.downconversion.enable", "message.format.version",
        "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms",
        "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
        "remote.storage.enable", "remote.log.copy.disable", "remote.log.delete.on.disable", "retention.bytes", "retention.ms",
        "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
    ]

    struct Invalid: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The codec a topic's `compression.type` asks the broker to store batches in; nil for
    /// `producer` (stored as the producer compressed them) and for names Kafka does not know.
    static func codec(compressionType: String) -> CompressionCodec? {
        switch compressionType {
        case "uncompressed": CompressionCodec.none
        case "none": nil  // the producer-side name; the topic-level one is "uncompressed"
        default: CompressionCodec(name: compressionType)
        }
    }

    /// The log settings for a topic with `overrides` over the broker's `base`.
    static func logConfig(_ overrides: [String: String], base: LogConfig) throws(Invalid) -> LogConfig {
        var config = base
        var flushMessages: Int64?, flushMs: Int64?
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard kafkaNames.contains(name) else { throw Invalid(message: "unknown topic config \(name)") }
            // The ranges are LogConfig.validated()'s, checked once every setting is read.
            func number() throws(Invalid) -> Int64 {
                guard let number = Int64(value) else { throw Invalid(message: "\(name)=\(value) must be a whole number") }
                return number
            }
            func refuse(_ why: String) -> Invalid { Invalid(message: "\(name)=\(value) is not supported: \(why)") }
            switch name {
            case "segment.bytes": config.segmentBytes = Int(try number())
            case "segment.index.bytes": config.segmentIndexBytes = Int(try number())
            case "segment.ms": config.segmentMs = try number()
            case "index.interval.bytes": config.indexIntervalBytes = Int(try number())
            case "max.message.bytes": config.maxMessageBytes = Int(try number())
            case "retention.ms": config.retentionMs = try number()
            case "retention.bytes": config.retentionBytes = try number()
            case "flush.messages": flushMessages = try number()
            case "flush.ms": flushMs = try number()
            case "cleanup.policy":
                guard let policy = CleanupPolicy(kafkaName: value) else {
                    throw Invalid(message: "\(name)=\(value) must be delete, compact, compact,delete or empty")
                }
                config.cleanupPolicy = policy
            case "min.cleanable.dirty.ratio":
                guard let ratio = Double(value), ratio.isFinite else { throw Invalid(message: "\(name)=\(value) must be a number in [0, 1]") }
                config.minCleanableDirtyRatio = ratio
            case "min.compaction.lag.ms": config.minCompactionLagMs = try number()
            case "max.compaction.lag.ms": config.maxCompactionLagMs = try number()
            case "delete.retention.ms": config.deleteRetentionMs = try number()
            case "compression.type":
                guard value == "producer" || codec(compressionType: value) != nil else {
                    throw Invalid(message: "\(name)=\(value) must be one of uncompressed, zstd, lz4, snappy, gzip, producer")
                }
            case "message.timestamp.type":
                guard value == "CreateTime" else { throw refuse("only CreateTime timestamps are kept") }
            case "min.insync.replicas":
                guard value == "1" else { throw Invalid(message: "\(name)=\(value) must be 1: a single node holds one replica") }
            case "unclean.leader.election.enable", "preallocate", "message.downconversion.enable", "remote.storage.enable",
                 "remote.log.copy.disable", "remote.log.delete.on.disable":
                guard value == "true" || value == "false" else { throw Invalid(message: "\(name)=\(value) must be true or false") }
            default:
                continue  // known to Kafka and without effect on a single node: kept and shown
            }
        }
        if flushMessages == 1 { config.flushPolicy = .beforeAcknowledge }
        else if flushMessages != nil || flushMs != nil {
            config.flushPolicy = .interval(messages: flushMessages ?? .max, milliseconds: flushMs ?? .max)
        }
        do throws(StorageError) { config = try config.validated() } catch { throw Invalid(message: "\(error)") }
        // The append queue must hold the largest batch (and a few of them); max.message.bytes is
        // in range by now, so the product cannot overflow.
        config.appendQueueBytesMax = max(base.appendQueueBytesMax, config.maxMessageBytes * 2)
        return config
    }
}
