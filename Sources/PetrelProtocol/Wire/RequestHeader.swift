/// The header of a request: v1 (api key, version, correlation id, client id) or, for flexible
/// versions, v2 (v1 + tagged fields). `client_id` is a classic int16 string even in v2, so any
/// broker can read the header of a request whose version it does not know.
public struct RequestHeader: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// The known API of this request, if any.
    public var knownApi: ApiKey? { ApiKey(rawValue: apiKey) }

    /// Reads the header; for a known API at a flexible version, also its tagged fields.
    /// ApiVersions of an unknown (too new) version is read as flexible too, as Kafka does.
    public static func read(from reader: inout ProtocolReader) throws(ProtocolError) -> RequestHeader {
        let apiKey = try reader.readInt16()
        let apiVersion = try reader.readInt16()
        let correlationId = try reader.readInt32()
        let clientId = try reader.readString(compact: false, field: "client_id")
        if let known = ApiKey(rawValue: apiKey), known.isFlexible(apiVersion) {
            try reader.skipTaggedFields()
        }
        return RequestHeader(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId, clientId: clientId)
    }

    public func write(to writer: inout ProtocolWriter) throws(ProtocolError) {
        writer.writeInt16(apiKey)
        writer.writeInt16(apiVersion)
        writer.writeInt32(correlationId)
        try writer.writeString(clientId, compact: false, field: "client_id")
        if let known = knownApi, known.isFlexible(apiVersion) { writer.writeEmptyTaggedFields() }
    }
}

/// Writes a response header: v0 (correlation id) or v1 (+ tagged fields) for flexible versions
/// — except ApiVersions, whose response header is always v0 (KIP-511).
public enum ResponseHeader {
    public static func write(correlationId: Int32, apiKey: ApiKey, apiVersion: Int16, to writer: inout ProtocolWriter) {
        writer.writeInt32(correlationId)
        if apiKey != .apiVersions && apiKey.isFlexible(apiVersion) { writer.writeEmptyTaggedFields() }
    }
}
