public import PetrelProtocol

/// A group's committed offsets, as OffsetFetch returns them for all its partitions.
public struct CommittedOffsets: Sendable, Equatable {
    /// The group-level error (NONE, or e.g. GROUP_AUTHORIZATION_FAILED, COORDINATOR_LOAD_IN_PROGRESS).
    public var errorCode: ErrorCode
    /// Offsets by partition; partitions with nothing committed are absent.
    public var offsets: [TopicPartition: Int64]
    /// Partitions the broker answered with an error instead of an offset.
    public var partitionErrors: [TopicPartition: ErrorCode]

    public init(errorCode: ErrorCode = .none, offsets: [TopicPartition: Int64] = [:], partitionErrors: [TopicPartition: ErrorCode] = [:]) {
        self.errorCode = errorCode
        self.offsets = offsets
        self.partitionErrors = partitionErrors
    }

    /// Adds one partition's answer: −1 is Kafka's "nothing committed".
    mutating func add(_ partition: TopicPartition, offset: Int64, errorCode: ErrorCode) {
        if errorCode != .none {
            partitionErrors[partition] = errorCode
        } else if offset >= 0 {
            offsets[partition] = offset
        }
    }
}
