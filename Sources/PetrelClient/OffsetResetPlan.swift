public import PetrelProtocol

/// What `reset-offsets` would commit for a group: per partition the committed offset now and
/// the new one, or why there is none. Planned first and printed; committed only on request.
public struct OffsetResetPlan: Sendable {
    public var groupId: String
    public var coordinator: BrokerAddress
    /// The group's state when planned; a reset needs it to be Empty or Dead (no members).
    public var state: String
    public var memberCount: Int
    public var entries: [Entry]
    /// Topics asked for that Metadata does not know.
    public var unknownTopics: [String]

    public struct Entry: Sendable, Equatable {
        public var partition: TopicPartition
        public var oldOffset: Int64?
        /// Nil when the entry has an error or nothing to shift.
        public var newOffset: Int64?
        /// The broker's error for this partition (its offsets could not be listed), if any.
        public var errorCode: ErrorCode

        public init(partition: TopicPartition, oldOffset: Int64?, newOffset: Int64?, errorCode: ErrorCode = .none) {
            self.partition = partition
            self.oldOffset = oldOffset
            self.newOffset = newOffset
            self.errorCode = errorCode
        }
    }

    /// Whether the group has members, which a reset must not race with (Kafka refuses too).
    public var groupIsActive: Bool { memberCount > 0 || !(state == "Empty" || state == "Dead") }

    /// The offsets to commit: every entry that has a new offset.
    public var offsetsToCommit: [TopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: entries.compactMap { entry in entry.newOffset.map { (entry.partition, $0) } })
    }
}
