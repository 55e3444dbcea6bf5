/// Kafka API keys, with the first version of each that uses flexible (KIP-482) encoding, from
/// Apache Kafka's message schemas.
public enum ApiKey: Int16, Sendable, CaseIterable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case apiVersions = 18
    case createTopics = 19
    case deleteTopics = 20
    case initProducerId = 22
    case offsetForLeaderEpoch = 23
    case addPartitionsToTxn = 24
    case addOffsetsToTxn = 25
    case endTxn = 26
    case txnOffsetCommit = 28
    case describeConfigs = 32
    case createPartitions = 37

    /// Versions from this one on are flexible: compact strings/arrays, tagged fields, header v2.
    public var firstFlexibleVersion: Int16 {
        switch self {
        case .produce: 9
        case .fetch: 12
        case .listOffsets: 6
        case .metadata: 9
        case .offsetCommit: 8
        case .offsetFetch: 6
        case .findCoordinator: 3
        case .joinGroup: 6
        case .heartbeat, .leaveGroup, .syncGroup: 4
        case .describeGroups: 5
        case .listGroups: 3
        case .apiVersions: 3
        case .createTopics: 5
        case .deleteTopics: 4
        case .initProducerId: 2
        case .offsetForLeaderEpoch: 4
        case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit: 3
        case .describeConfigs: 4
        case .createPartitions: 2
        }
    }

    public func isFlexible(_ version: Int16) -> Bool { version >= firstFlexibleVersion }
}

/// The inclusive range of versions the broker implements for an API.
public struct ApiVersionRange: Sendable, Equatable {
    public let apiKey: ApiKey
    public let minVersion: Int16
    public let maxVersion: Int16

    public init(_ apiKey: ApiKey, _ minVersion: Int16, _ maxVersion: Int16) {
        precondition(minVersion <= maxVersion, "empty version range")
        self.apiKey = apiKey
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }

    public func contains(_ version: Int16) -> Bool { version >= minVersion && version <= maxVersion }
}

/// The broker's ApiVersions table: every API this layer has codecs for and the broker
/// implements, nothing more (protocol reference §2.3). It is kept here, beside the codecs, by
/// hand, until the broker's request router derives it from its registered handlers. Produce is advertised from 0
/// because librdkafka before 2.11.1 disables compression otherwise; 0–2 are answered
/// UNSUPPORTED_VERSION.
public enum SupportedApis {
    public static let all: [ApiVersionRange] = [
        ApiVersionRange(.produce, 0, 9),
        ApiVersionRange(.fetch, 4, 12),
        ApiVersionRange(.listOffsets, 1, 7),
        ApiVersionRange(.metadata, 0, 12),
        ApiVersionRange(.apiVersions, 0, 4),
        ApiVersionRange(.initProducerId, 0, 4),
        ApiVersionRange(.createTopics, 2, 5),
        ApiVersionRange(.deleteTopics, 1, 4),
        ApiVersionRange(.createPartitions, 0, 2),
        ApiVersionRange(.describeConfigs, 1, 4),
        ApiVersionRange(.offsetForLeaderEpoch, 2, 4),
    ]

    public static func range(for key: ApiKey) -> ApiVersionRange? { all.first { $0.apiKey == key } }
}
