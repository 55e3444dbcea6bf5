import PetrelStorage

/// A partition this broker leads: its log, and the offsets where `acks`, the high watermark
/// and the last stable offset meet. Replication adds followers, the ISR and epochs here.
struct Partition: Sendable {
    let topicPartition: TopicPartition
    let log: Log

    /// A single node leads every partition, in epoch 0.
    var leaderEpoch: Int32 { 0 }

    /// The offset after the last committed record. On a single node every acknowledged record
    /// is committed, and the log publishes its end offset only once an append is acknowledged
    /// under its flush policy (after the fsync under fsync-before-acknowledge).
    var highWatermark: Int64 { log.logEndOffset }

    /// The offset before which every transaction is decided; without transactions, the high
    /// watermark.
    var lastStableOffset: Int64 { highWatermark }

    var logStartOffset: Int64 { log.logStartOffset }
}
