public import PetrelProtocol

/// What `petrel groups describe` shows of one group: its state and members (with their decoded
/// assignments) from DescribeGroups, and per partition the committed offset (OffsetFetch), the
/// log end offset (ListOffsets at the leader), the lag between them and the member owning it.
public struct ConsumerGroupDescription: Sendable {
    public var groupId: String
    public var coordinator: BrokerAddress
    /// DescribeGroups' error for this group (NONE when described).
    public var errorCode: ErrorCode
    /// Kafka's state name; Dead for a group the coordinator does not know.
    public var state: String
    public var protocolType: String
    /// The assignor (`range`, `roundrobin`, …) once the group is stable.
    public var protocolName: String
    public var members: [Member]
    /// OffsetFetch's group-level error.
    public var offsetsErrorCode: ErrorCode
    /// Partitions with a committed offset or an owner, sorted.
    public var partitions: [PartitionLag]

    public struct Member: Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var assignment: [TopicPartition]
        /// Why the assignment bytes did not decode as the consumer protocol's, if they did not.
        public var assignmentError: String?
    }

    public struct PartitionLag: Sendable {
        public var partition: TopicPartition
        public var committedOffset: Int64?
        public var logEndOffset: Int64?
        /// Log end minus committed, when both are known.
        public var lag: Int64?
        /// The member id of the member it is assigned to.
        public var owner: String?
        /// An error from OffsetFetch or ListOffsets for this partition.
        public var errorCode: ErrorCode
    }
}
