/// The group coordinator's settings, with Kafka's names and defaults (`GroupCoordinatorConfig`,
/// `OffsetConfig`) unless said otherwise.
public struct GroupCoordinatorConfig: Sendable, Equatable {
    /// The internal topic that holds groups and committed offsets.
    public var offsetsTopic = "__consumer_offsets"
    /// `offsets.topic.num.partitions`: a group lives in partition `hash(groupId) % this`.
    public var offsetsTopicPartitions: Int32 = 50
    /// `group.min.session.timeout.ms` and `group.max.session.timeout.ms`: a JoinGroup outside
    /// is INVALID_SESSION_TIMEOUT.
    public var minSessionTimeoutMs: Int32 = 6_000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members (extended by as much while members keep arriving, within the rebalance
    /// timeout).
    public var initialRebalanceDelayMs: Int32 = 3_000
    /// `group.max.size`.
    public var maxGroupSize = Int(Int32.max)
    /// `offset.metadata.max.bytes`: longer commit metadata is OFFSET_METADATA_TOO_LARGE.
    public var offsetMetadataMaxBytes = 4_096
    /// `offsets.retention.minutes` (7 days), in milliseconds: how long the offsets of an empty
    /// group (or of a group outside group management, per commit) are kept.
    public var offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1_000
    /// `offsets.retention.check.interval.ms` (10 minutes): how often expired offsets are sought.
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    /// `offsets.load.buffer.size`: bytes read per step while loading a partition.
    public var loadBufferBytes = 5 * 1_024 * 1_024

    public init() {}
}
