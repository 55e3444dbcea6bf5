import NIOCore
import PetrelProtocol

/// The ApiVersions exchange that opens a connection: which versions of each API the broker
/// implements.
///
/// It asks at v3 (understood by every broker since Kafka 2.4). A broker that does not know that
/// version answers UNSUPPORTED_VERSION in the v0 format with its own ApiVersions range
/// (KIP-511); the exchange is then repeated once at the highest version both sides know.
struct Handshake {
    let address: BrokerAddress
    let channel: any Channel
    let clientId: String
    let timeout: TimeAmount

    /// The broker's range per API key, and the correlation id the connection goes on with.
    func brokerVersions() async throws(ClientError) -> (versions: [Int16: ClosedRange<Int16>], nextCorrelationId: Int32) {
        let first = try await ask(version: 3, correlationId: 0)
        if first.errorCode == .none { return (Self.table(first), 1) }
        guard first.errorCode == .unsupportedVersion else {
            throw ClientError(broker: address, .brokerError(api: .apiVersions, first.errorCode, message: nil))
        }
        let brokerRange = Self.table(first)[ApiKey.apiVersions.rawValue]
        let retry = brokerRange.flatMap { ClientApiVersions.negotiate(.apiVersions, broker: $0) } ?? 0
        let second = try await ask(version: retry, correlationId: 1)
        guard second.errorCode == .none else {
            throw ClientError(broker: address, .brokerError(api: .apiVersions, second.errorCode, message: nil))
        }
        return (Self.table(second), 2)
    }

    private func ask(version: Int16, correlationId: Int32) async throws(ClientError) -> ApiVersionsResponse {
        let request = version >= 3
            ? ApiVersionsRequest(clientSoftwareName: KafkaConnection.softwareName, clientSoftwareVersion: KafkaConnection.softwareVersion)
            : ApiVersionsRequest()
        let frame = try await KafkaConnection.exchange(request, version: version, correlationId: correlationId, clientId: clientId,
                                                       on: channel, address: address, timeout: timeout)
        // UNSUPPORTED_VERSION comes in the v0 format whatever version was asked; the error code
        // is the first field of every version, so it tells which format to read.
        let errorCode = frame.getInteger(at: frame.readerIndex, as: Int16.self).map(ErrorCode.init(rawValue:))
        let format = errorCode == ErrorCode.unsupportedVersion ? 0 : version
        return try KafkaConnection.decode(frame, as: ApiVersionsResponse.self, version: format, address: address)
    }

    /// The ranges by API key; an entry whose minimum exceeds its maximum is not a range and is left out.
    private static func table(_ response: ApiVersionsResponse) -> [Int16: ClosedRange<Int16>] {
        var table: [Int16: ClosedRange<Int16>] = [:]
        for entry in response.apiKeys where entry.minVersion <= entry.maxVersion {
            table[entry.apiKey] = entry.minVersion...entry.maxVersion
        }
        return table
    }
}
