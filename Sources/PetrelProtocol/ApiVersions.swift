/// ApiVersions (key 18), versions 0–4: the first request on every connection.
public struct ApiVersionsRequest: Sendable, Equatable {
    public var clientSoftwareName: String?
    public var clientSoftwareVersion: String?

    public init(clientSoftwareName: String? = nil, clientSoftwareVersion: String? = nil) {
        self.clientSoftwareName = clientSoftwareName
        self.clientSoftwareVersion = clientSoftwareVersion
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> ApiVersionsRequest {
        guard version >= 3 else { return ApiVersionsRequest() }
        let name = try reader.readString(compact: true, field: "client_software_name")
        let softwareVersion = try reader.readString(compact: true, field: "client_software_version")
        try reader.skipTaggedFields()
        return ApiVersionsRequest(clientSoftwareName: name, clientSoftwareVersion: softwareVersion)
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        guard version >= 3 else { return }
        writer.writeString(clientSoftwareName ?? "", compact: true)
        writer.writeString(clientSoftwareVersion ?? "", compact: true)
        writer.writeEmptyTaggedFields()
    }
}

public struct ApiVersionsResponse: Sendable, Equatable {
    public var errorCode: ErrorCode
    public var apiKeys: [ApiVersionRange]
    public var throttleTimeMs: Int32

    public init(errorCode: ErrorCode = .none, apiKeys: [ApiVersionRange] = SupportedApis.all, throttleTimeMs: Int32 = 0) {
        self.errorCode = errorCode
        self.apiKeys = apiKeys
        self.throttleTimeMs = throttleTimeMs
    }

    /// The answer to an ApiVersions request of a version this broker does not know: encoded as
    /// v0 whatever was asked, UNSUPPORTED_VERSION, with ApiVersions' own range so the client
    /// can retry with a version both know (what Apache Kafka does).
    public static var unsupportedVersion: ApiVersionsResponse {
        ApiVersionsResponse(errorCode: .unsupportedVersion, apiKeys: SupportedApis.all.filter { $0.apiKey == .apiVersions })
    }

    /// v0: error, int32-counted array; v1–2: + throttle time; v3–4: compact array, tagged fields.
    public func write(version: Int16, to writer: inout ProtocolWriter) {
        let compact = version >= 3
        writer.writeInt16(errorCode.rawValue)
        writer.writeArray(apiKeys, compact: compact) { writer, range in
            writer.writeInt16(range.apiKey.rawValue)
            writer.writeInt16(range.minVersion)
            writer.writeInt16(range.maxVersion)
            if compact { writer.writeEmptyTaggedFields() }
        }
        if version >= 1 { writer.writeInt32(throttleTimeMs) }
        if compact { writer.writeEmptyTaggedFields() }  // no SupportedFeatures / FinalizedFeatures tags
    }
}
