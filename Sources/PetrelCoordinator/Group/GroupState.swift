/// The classic group protocol's states (Kafka's `ClassicGroupState`), named as DescribeGroups
/// and ListGroups spell them.
public enum GroupState: String, Sendable, CaseIterable {
    /// No members; committed offsets may remain.
    case empty = "Empty"
    /// Waiting for every member to (re)join.
    case preparingRebalance = "PreparingRebalance"
    /// Joined; waiting for the leader's assignment (SyncGroup).
    case completingRebalance = "CompletingRebalance"
    /// Every member has its assignment and heartbeats.
    case stable = "Stable"
    /// Deleted (or its partition unloaded): every request is told to find the coordinator again.
    case dead = "Dead"
}
