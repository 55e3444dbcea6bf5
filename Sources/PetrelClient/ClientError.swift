public import PetrelProtocol

/// Why a request to a broker produced no usable answer, always with the broker it was for.
///
/// Errors the broker reports about one item (a group, a partition) are not `ClientError`s: they
/// come back as `ErrorCode`s beside that item, so that one failed item does not hide the
/// others. A `ClientError` is what stops the whole operation: no connection, a timeout, bytes
/// that do not decode, no version both sides speak, or a request-level error code.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// The TCP connection could not be made (the underlying error's text).
        case connectFailed(String)
        /// The connection closed, or failed, before the response arrived.
        case connectionClosed(String)
        /// No response within the request timeout.
        case timedOut(api: ApiKey, seconds: Int)
        /// The broker does not implement any version of the API that this client does.
        case unsupportedApi(ApiKey, brokerVersions: ClosedRange<Int16>?)
        /// The response did not decode as the message it should be.
        case malformedResponse(api: ApiKey, ProtocolError)
        /// The request could not be encoded in the version negotiated (a value it cannot carry).
        case unencodableRequest(api: ApiKey, ProtocolError)
        /// A request-level error code (as opposed to one per item).
        case brokerError(api: ApiKey, ErrorCode, message: String?)
        /// Metadata named no broker for a node the answer depends on.
        case unknownNode(Int32)
    }

    /// The broker the request was for.
    public let broker: BrokerAddress
    public let reason: Reason

    public init(broker: BrokerAddress, _ reason: Reason) {
        self.broker = broker
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case let .connectFailed(text): what = "cannot connect: \(text)"
        case let .connectionClosed(text): what = "connection lost: \(text)"
        case let .timedOut(api, seconds): what = "no \(api) response within \(seconds) s"
        case let .unsupportedApi(api, nil): what = "the broker does not implement \(api)"
        case let .unsupportedApi(api, versions?):
            what = "the broker implements \(api) versions \(versions.lowerBound)-\(versions.upperBound), none of which this client speaks"
        case let .malformedResponse(api, error): what = "malformed \(api) response: \(error)"
        case let .unencodableRequest(api, error): what = "cannot encode the \(api) request: \(error)"
        case let .brokerError(api, code, message):
            what = "\(api) failed: \(code.name)" + (message.map { $0.isEmpty ? "" : " (\($0))" } ?? "")
        case let .unknownNode(id): what = "metadata names no broker with node id \(id)"
        }
        return "\(broker): \(what)"
    }
}
