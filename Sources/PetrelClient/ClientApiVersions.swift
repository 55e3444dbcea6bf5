public import PetrelProtocol

/// The versions of each API this client's code handles, and the choice of one per request.
///
/// The codecs read and write every version their schemas define, but the code around them
/// does not mean the same thing in all of them: ListOffsets v0 answers in another shape,
/// OffsetFetch before v2 cannot ask for all of a group's offsets, and the newest versions of
/// OffsetCommit/OffsetFetch (9+), ListOffsets (8+) and FindCoordinator (5+) belong to protocols
/// (KIP-848, tiered storage, transactions v2) this tool does not speak. So each API is capped
/// here, and a request goes at the highest version both this table and the broker allow.
public enum ClientApiVersions {
    public static func range(of api: ApiKey) -> ClosedRange<Int16>? {
        switch api {
        case .apiVersions: 0...3
        case .metadata: 1...12
        case .findCoordinator: 0...4
        case .listGroups: 0...5
        case .describeGroups: 0...5
        case .offsetFetch: 2...8
        case .offsetCommit: 2...8
        case .listOffsets: 1...7
        case .deleteGroups: 0...2
        // The group member of `petrel bench` (MEMBER_ID_REQUIRED flow and batched LeaveGroup;
        // before KIP-848), and the topic it creates.
        case .joinGroup: 4...5
        case .syncGroup: 3...3
        case .heartbeat: 3...3
        case .leaveGroup: 3...3
        case .createTopics: 2...4
        default: nil
        }
    }

    /// The highest version in both this client's range and the broker's; nil when they do not meet.
    public static func negotiate(_ api: ApiKey, broker: ClosedRange<Int16>) -> Int16? {
        guard let ours = range(of: api), ours.overlaps(broker) else { return nil }
        return min(ours.upperBound, broker.upperBound)
    }
}
