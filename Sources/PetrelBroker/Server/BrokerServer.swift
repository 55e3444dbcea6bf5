import Logging
public import NIOCore
import NIOPosix
import PetrelProtocol

/// The network side of the broker on SwiftNIO: accepts connections (within `max.connections`
/// and `max.connections.per.ip`, closing those idle for `connections.max.idle.ms`), splits the
/// byte stream into Kafka frames (bounded by `socket.request.max.bytes`), hands each to the
/// `Broker` off the event loop, and writes responses back in request order, as pipelining
/// clients require.
public final class BrokerServer: Sendable {
    public let broker: Broker
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Starts listening. The port actually bound is `localPort` (useful with port 0).
    public init(broker: Broker, threads: Int = System.coreCount) throws {
        self.broker = broker
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let config = broker.config
        let limits = ConnectionLimits(totalMax: config.connectionsMax, perAddressMax: config.connectionsPerIpMax)
        let budget = RequestBytesBudget(bytesMax: config.queuedRequestBytesMax)
        let logger = Logger(label: "petrel.connection")
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let address = channel.remoteAddress?.ipAddress ?? "unknown"
                guard limits.admit(address) else {
                    logger.warning("refusing a connection from \(address): max.connections=\(config.connectionsMax), max.connections.per.ip=\(config.connectionsPerIpMax)")
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ConnectionReleaser(limits: limits, address: address))
                    let idle = TimeAmount.milliseconds(config.connectionsIdleMsMax)
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idle))
                    try pipeline.addHandler(IdleConnectionCloser())
                    try pipeline.addHandler(ByteToMessageHandler(KafkaFrameDecoder(frameBytesMax: config.requestBytesMax)))
                    try pipeline.addHandler(KafkaRequestHandler(broker: broker, budget: budget, connectionBytesMax: config.requestBytesMax))
                }
            }
        channel = try bootstrap.bind(host: config.host, port: config.port).wait()
    }

    public var localPort: Int? { channel.localAddress?.port }

    /// Stops accepting, closes connections (cancelling the requests they have in flight and
    /// waiting for them), waits for the group coordinator's last writes, then closes the
    /// broker's logs cleanly and writes the clean-shutdown marker last.
    public func shutdown() throws {
        try? channel.close().wait()
        broker.stopAcceptingWork()
        try group.syncShutdownGracefully()
        broker.waitForRequestsInFlight()
        broker.waitForCoordinatorWrites()
        try broker.close()
    }

    /// Blocks until the listening channel closes.
    public func wait() throws { try channel.closeFuture.wait() }
}

/// Splits the stream into frames: int32 size, then that many bytes. A negative or oversized
/// size is a protocol error: the connection is closed, with the reason logged. A frame is the
/// received buffer's memory lent as it is (`FrameBytes.lending`), not a copy.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = FrameBytes
    let frameBytesMax: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= frameBytesMax else {
            throw ProtocolError(.invalidLength(field: "frame size", length: Int64(size)), position: 0)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(size)) else { preconditionFailure("the frame's bytes were counted as readable") }
        context.fireChannelRead(wrapInboundOut(FrameBytes.lending(frame)))
        return .continue
    }
}
