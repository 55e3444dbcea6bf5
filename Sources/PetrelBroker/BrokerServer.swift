import Logging
public import NIOCore
import NIOPosix
import PetrelProtocol

/// The network side of the broker on SwiftNIO: accepts connections, splits the byte stream into
/// Kafka frames (bounded by `socket.request.max.bytes`), hands each to the `Broker` off the event
/// loop, and writes responses back in request order, as pipelining clients require.
public final class BrokerServer: Sendable {
    public let broker: Broker
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Starts listening. The port actually bound is `localPort` (useful with port 0).
    public init(broker: Broker, threads: Int = System.coreCount) throws {
        self.broker = broker
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let frameBytesMax = broker.config.requestBytesMax
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(frameBytesMax: frameBytesMax)))
                    try channel.pipeline.syncOperations.addHandler(KafkaRequestHandler(broker: broker))
                }
            }
        channel = try bootstrap.bind(host: broker.config.host, port: broker.config.port).wait()
    }

    public var localPort: Int? { channel.localAddress?.port }

    /// Stops accepting, closes connections, then closes the broker's logs cleanly.
    public func shutdown() throws {
        try? channel.close().wait()
        try group.syncShutdownGracefully()
        try broker.close()
    }

    /// Blocks until the listening channel closes.
    public func wait() throws { try channel.closeFuture.wait() }
}

/// Splits the stream into frames: int32 size, then that many bytes. A negative or oversized
/// size is a protocol error: the connection is closed, with the reason logged.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [UInt8]
    let frameBytesMax: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, Int(size) <= frameBytesMax else {
            throw ProtocolError(.invalidLength(field: "frame size", length: Int64(size)), position: 0)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readBytes(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Handles the frames of one connection: each goes to the broker on the cooperative pool, one
/// after the other, and responses are written in the order the requests came.
final class KafkaRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // Safe: `lastWrite` is only touched on the channel's event loop (channelRead and the
    // callbacks chained on futures of that loop).
    typealias InboundIn = [UInt8]
    typealias OutboundOut = ByteBuffer
    let broker: Broker
    private var lastWrite: EventLoopFuture<Void>?
    /// Requests read but not yet answered; reading pauses at the bound (memory per connection
    /// stays bounded: at most this many frames of at most `socket.request.max.bytes`).
    private var pending = 0
    static let pendingMax = 64
    private let logger = Logger(label: "petrel.connection")

    init(broker: Broker) { self.broker = broker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let loop = context.eventLoop
        pending += 1
        if pending >= Self.pendingMax { context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
        let broker = self.broker
        let previous = lastWrite ?? loop.makeSucceededVoidFuture()
        let channel = context.channel
        let logger = self.logger
        // One request at a time per connection, as Kafka does: a producer's pipelined batches
        // reach the log in the order it sent them (its sequence numbers depend on that).
        lastWrite = previous.flatMap { () -> EventLoopFuture<BrokerResponse?> in
            let promise = loop.makePromise(of: BrokerResponse?.self)
            promise.completeWithTask { try await broker.handle(frame: frame) }
            return promise.futureResult
        }.flatMap { response -> EventLoopFuture<Void> in
            guard let response else { return loop.makeSucceededVoidFuture() }
            return Self.write(response, to: channel)
        }.flatMapError { error in
            // A client that went away while its response was on the way is not worth a warning.
            if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel { return loop.makeSucceededVoidFuture() }
            logger.warning("closing connection from \(String(describing: channel.remoteAddress)): \(error)")
            return channel.close()
        }.always { [self] _ in
            pending -= 1
            if pending == Self.pendingMax / 2 { channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
        }
    }

    /// Writes a response: its bytes, with each file part sent from its descriptor (`sendfile`
    /// through a `FileRegion`) at its place. The descriptors are closed once written, or failed.
    static func write(_ response: BrokerResponse, to channel: any Channel) -> EventLoopFuture<Void> {
        var header = channel.allocator.buffer(capacity: 4)
        header.writeInteger(Int32(response.messageBytes))
        guard !response.fileParts.isEmpty else {
            header.writeBytes(response.bytes)
            return channel.writeAndFlush(header)
        }
        let handles = response.fileParts.map { NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: $0.descriptor) }
        channel.write(header, promise: nil)
        var start = 0
        for (part, handle) in zip(response.fileParts, handles) {
            if part.position > start {
                channel.write(channel.allocator.buffer(bytes: response.bytes[start..<part.position]), promise: nil)
            }
            let region = FileRegion(fileHandle: handle, readerIndex: Int(part.fileOffset), endIndex: Int(part.fileOffset) + part.count)
            channel.write(region, promise: nil)
            start = part.position
        }
        let done = channel.writeAndFlush(channel.allocator.buffer(bytes: response.bytes[start...]))
        done.whenComplete { _ in
            for handle in handles { try? handle.close() }
        }
        return done
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("closing connection from \(String(describing: context.remoteAddress)): \(error)")
        context.close(promise: nil)
    }
}
