/// One group as ListGroups reports it, with the broker that coordinates it (ListGroups is sent
/// to every broker, and each lists the groups it coordinates).
public struct GroupListing: Sendable, Equatable {
    public let groupId: String
    /// `consumer` for Kafka consumers; `connect` and others for other group users.
    public let protocolType: String
    /// Stable, Empty, PreparingRebalance, CompletingRebalance, Dead (as the broker names it).
    public let state: String
    public let coordinator: BrokerAddress

    public init(groupId: String, protocolType: String, state: String, coordinator: BrokerAddress) {
        self.groupId = groupId
        self.protocolType = protocolType
        self.state = state
        self.coordinator = coordinator
    }
}
