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

extension ApiVersionsResponse {
    /// The broker's answer: `SupportedApis.all`, no error.
    public static var supported: ApiVersionsResponse { ApiVersionsResponse(apiKeys: SupportedApis.all.map(ApiVersion.init)) }

    /// The answer to an ApiVersions request of a version this broker does not know: encoded as
    /// v0 whatever was asked, UNSUPPORTED_VERSION, with ApiVersions' own range so the client
    /// can retry with a version both know (what Apache Kafka does).
    public static var unsupportedVersion: ApiVersionsResponse {
        ApiVersionsResponse(errorCode: .unsupportedVersion, apiKeys: SupportedApis.all.filter { $0.apiKey == .apiVersions }.map(ApiVersion.init))
    }
}

extension ApiVersionsResponse.ApiVersion {
    public init(_ range: ApiVersionRange) {
        self.init(apiKey: range.apiKey.rawValue, minVersion: range.minVersion, maxVersion: range.maxVersion)
    }
}
