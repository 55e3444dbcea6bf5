public import NIOCore
import NIOPosix
public import PetrelProtocol
import Synchronization

/// One TCP connection to one broker, after the ApiVersions handshake: it frames requests
/// (request header with a fresh correlation id and this client's id), sends each at the highest
/// version both sides speak (`ClientApiVersions`), and awaits the response with the same
/// correlation id, for at most the request timeout.
///
/// Requests may be sent from several tasks at once; responses are matched by correlation id
/// (`ResponseMatcher`). Every failure is a `ClientError` naming this broker.
public final class KafkaConnection: Sendable {
    public let address: BrokerAddress
    private let channel: any Channel
    private let clientId: String
    private let requestTimeout: TimeAmount
    /// The broker's versions of each API, by API key, from its ApiVersions answer.
    private let brokerVersions: [Int16: ClosedRange<Int16>]
    private let nextCorrelationId: Atomic<Int32>

    /// The largest response accepted (Kafka's default `socket.request.max.bytes`).
    static let frameBytesMax = 100 * 1024 * 1024
    /// What ApiVersions v3+ tells the broker about this software.
    static let softwareName = "petrel", softwareVersion = "0.1.0"

    private init(address: BrokerAddress, channel: any Channel, clientId: String, requestTimeout: TimeAmount,
                 brokerVersions: [Int16: ClosedRange<Int16>], nextCorrelationId: Int32) {
        self.address = address
        self.channel = channel
        self.clientId = clientId
        self.requestTimeout = requestTimeout
        self.brokerVersions = brokerVersions
        self.nextCorrelationId = Atomic(nextCorrelationId)
    }

    /// Connects (within `timeout`) and learns the broker's API versions.
    public static func connect(to address: BrokerAddress, on group: any EventLoopGroup, clientId: String,
                               timeout: TimeAmount) async throws(ClientError) -> KafkaConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(ResponseFrameDecoder(frameBytesMax: frameBytesMax)))
                    try pipeline.addHandler(ResponseMatcher())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            throw ClientError(broker: address, .connectFailed("\(error)"))
        }
        do throws(ClientError) {
            let handshake = Handshake(address: address, channel: channel, clientId: clientId, timeout: timeout)
            let (versions, nextCorrelationId) = try await handshake.brokerVersions()
            return KafkaConnection(address: address, channel: channel, clientId: clientId, requestTimeout: timeout,
                                   brokerVersions: versions, nextCorrelationId: nextCorrelationId)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// The version a request of `api` goes at: the highest this client and the broker share.
    public func version(of api: ApiKey) throws(ClientError) -> Int16 {
        let broker = brokerVersions[api.rawValue]
        guard let broker, let version = ClientApiVersions.negotiate(api, broker: broker) else {
            throw ClientError(broker: address, .unsupportedApi(api, brokerVersions: broker))
        }
        return version
    }

    /// Sends `request` at `version` (by default the negotiated one) and decodes the answer.
    public func send<Request: KafkaMessage, Response: KafkaMessage>(
        _ request: Request, version: Int16? = nil, as _: Response.Type = Response.self
    ) async throws(ClientError) -> Response {
        precondition(Request.apiKey == Response.apiKey, "a response type of another API")
        let negotiated: Int16
        if let version { negotiated = version } else { negotiated = try self.version(of: Request.apiKey) }
        let correlationId = nextCorrelationId.wrappingAdd(1, ordering: .relaxed).oldValue
        let frame = try await Self.exchange(request, version: negotiated, correlationId: correlationId, clientId: clientId,
                                            on: channel, address: address, timeout: requestTimeout)
        return try Self.decode(frame, as: Response.self, version: negotiated, address: address)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Encodes, sends and awaits one request's response frame (after its correlation id).
    static func exchange<Request: KafkaMessage>(_ request: Request, version: Int16, correlationId: Int32, clientId: String,
                                                on channel: any Channel, address: BrokerAddress,
                                                timeout: TimeAmount) async throws(ClientError) -> ByteBuffer {
        let api = Request.apiKey
        var writer = ProtocolWriter()
        do {
            try RequestHeader(apiKey: api.rawValue, apiVersion: version, correlationId: correlationId, clientId: clientId).write(to: &writer)
            try request.write(version: version, to: &writer)
        } catch {
            throw ClientError(broker: address, .unencodableRequest(api: api, error))
        }
        var frame = channel.allocator.buffer(capacity: 4 + writer.bytes.count)
        frame.writeInteger(Int32(writer.bytes.count))
        frame.writeBytes(writer.bytes)
        let response = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write that never reaches the matcher (the channel already gone) must still end the wait.
        written.futureResult.whenFailure { response.fail($0) }
        channel.writeAndFlush(PendingRequest(correlationId: correlationId, frame: frame, response: response, timeout: timeout), promise: written)
        do {
            return try await response.futureResult.get()
        } catch is ResponseMatcher.ResponseTimeout {
            throw ClientError(broker: address, .timedOut(api: api, seconds: Int(timeout.nanoseconds / 1_000_000_000)))
        } catch {
            throw ClientError(broker: address, .connectionClosed("\(error)"))
        }
    }

    /// Decodes a response frame: the header's tagged fields (flexible versions, except
    /// ApiVersions, whose response header is always v0), then the body, which must fill the frame.
    static func decode<Response: KafkaMessage>(_ frame: ByteBuffer, as _: Response.Type, version: Int16,
                                               address: BrokerAddress) throws(ClientError) -> Response {
        var reader = ProtocolReader(Array(frame.readableBytesView))
        do {
            if Response.apiKey != .apiVersions && Response.apiKey.isFlexible(version) { try reader.skipTaggedFields() }
            let response = try Response.read(version: version, from: &reader)
            try reader.expectEnd()
            return response
        } catch {
            throw ClientError(broker: address, .malformedResponse(api: Response.apiKey, error))
        }
    }
}
