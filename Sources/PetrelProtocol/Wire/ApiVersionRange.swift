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

extension ApiVersionsResponse.ApiVersion {
    public init(_ range: ApiVersionRange) {
        self.init(apiKey: range.apiKey.rawValue, minVersion: range.minVersion, maxVersion: range.maxVersion)
    }
}
