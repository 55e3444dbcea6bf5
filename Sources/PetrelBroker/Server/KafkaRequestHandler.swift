import Glibc
import Logging
import NIOCore
import PetrelProtocol

/// Handles the frames of one connection: each goes to the broker off the event loop, one after
/// the other, and responses are written in the order the requests came.
///
/// Memory is bounded: reading pauses while this connection has `pendingMax` requests or
/// `connectionBytesMax` bytes unanswered, or while the broker-wide budget
/// (`queued.max.request.bytes`) is spent. When the connection closes, what it read is still
/// handled where the request changes state (a produce, a topic creation), as Kafka does, with
/// the response dropped: a producer with `acks=0` closes right after its last send. A request
/// whose response is all it does is skipped, or cancelled if in flight (a parked fetch returns).
final class KafkaRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // Safe: every mutable field is touched only on the channel's event loop (channelRead,
    // channelInactive and the callbacks chained on futures of that loop; `budgetHasRoom` hops
    // onto the loop first). `loop` and `channel` are set once in handlerAdded.
    typealias InboundIn = FrameBytes
    typealias OutboundOut = ByteBuffer
    let broker: Broker
    let budget: RequestBytesBudget
    let connectionBytesMax: Int
    static let pendingMax = 64
    private var loop: (any EventLoop)?
    private var channel: (any Channel)?
    /// The peer as Kafka names it in group descriptions (`/127.0.0.1`).
    private var clientHost = ""
    private var lastWrite: EventLoopFuture<Void>?
    private var pending = 0
    private var pendingBytes = 0
    private var reading = true
    /// The request in flight, when it is one that only responds: cancelled if the connection closes.
    private var cancellableInFlight: Task<BrokerResponse?, any Error>?
    private let logger = Logger(label: "petrel.connection")

    init(broker: Broker, budget: RequestBytesBudget, connectionBytesMax: Int) {
        self.broker = broker
        self.budget = budget
        self.connectionBytesMax = connectionBytesMax
    }

    func handlerAdded(context: ChannelHandlerContext) {
        loop = context.eventLoop
        channel = context.channel
        clientHost = context.remoteAddress?.ipAddress.map { "/" + $0 } ?? ""
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancellableInFlight?.cancel()
        budget.forget(self)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let loop = context.eventLoop
        let bytes = frame.bytes.count
        pending += 1
        pendingBytes += bytes
        budget.take(bytes)
        updateReading()
        let broker = self.broker
        let previous = lastWrite ?? loop.makeSucceededVoidFuture()
        let channel = context.channel
        let logger = self.logger
        let respondsOnly = broker.router.respondsOnly(frame: frame)
        let clientHost = self.clientHost
        // One request at a time per connection, as Kafka does: a producer's pipelined batches
        // reach the log in the order it sent them (its sequence numbers depend on that).
        lastWrite = previous.flatMap { [self] () -> EventLoopFuture<BrokerResponse?> in
            // A connection that closed meanwhile: a request that only responds is not worth
            // doing; one that changes state is done, and its response dropped.
            guard channel.isActive || !respondsOnly, let task = broker.startRequest(frame: frame, clientHost: clientHost) else { return loop.makeSucceededFuture(nil) }
            if respondsOnly { cancellableInFlight = task }
            let promise = loop.makePromise(of: BrokerResponse?.self)
            promise.completeWithTask { try await task.value }
            return promise.futureResult
        }.flatMap { response -> EventLoopFuture<Void> in
            guard let response, channel.isActive else { return loop.makeSucceededVoidFuture() }
            return Self.write(response, to: channel)
        }.flatMapError { error in
            // A client that went away while its response was on the way is not worth a warning.
            if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel { return loop.makeSucceededVoidFuture() }
            logger.warning("closing connection from \(String(describing: channel.remoteAddress)): \(error)")
            return channel.close()
        }.always { [self] _ in
            cancellableInFlight = nil
            pending -= 1
            pendingBytes -= bytes
            budget.give(bytes)
            updateReading()
        }
    }

    /// Reads while this connection and the broker have room for more requests.
    private func updateReading() {
        guard let channel else { return }
        // `pause` registers this connection to be woken only when the budget is spent.
        let shouldRead = pending < Self.pendingMax && pendingBytes < connectionBytesMax && !budget.pause(self)
        guard shouldRead != reading else { return }
        reading = shouldRead
        channel.setOption(ChannelOptions.autoRead, value: shouldRead).whenComplete { _ in }
    }

    /// Called by the budget, on any thread, once it has room again.
    func budgetHasRoom() {
        loop?.execute { self.updateReading() }
    }

    /// Writes a response: its bytes, with each file part sent from its descriptor (`sendfile`
    /// through a `FileRegion`) at its place. Each descriptor belongs to a segment lease, shared
    /// with other senders: the `NIOFileHandle`s only borrow them (their ownership is taken back,
    /// never closed) and the leases are released once everything is written, or failed.
    static func write(_ response: BrokerResponse, to channel: any Channel) -> EventLoopFuture<Void> {
        let handles = response.fileParts.map { NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: $0.descriptor) }
        @Sendable func closeHandles() {
            for handle in handles {
                // Throws only for a handle already closed, which nothing here does.
                do { _ = try handle.takeDescriptorOwnership() } catch { preconditionFailure("a borrowed file handle was closed: \(error)") }
            }
            for part in response.fileParts { part.lease.release() }
        }
        // Responses are bounded well below this (fetch.max.bytes); a size that does not fit
        // the frame's int32 is a bug to report, not a reason to crash the broker.
        guard let size = Int32(exactly: response.messageBytes) else {
            closeHandles()
            return channel.eventLoop.makeFailedFuture(ResponseTooLarge(bytes: response.messageBytes))
        }
        var header = channel.allocator.buffer(capacity: 4)
        header.writeInteger(size)
        guard !response.fileParts.isEmpty else {
            header.writeBytes(response.bytes)
            return channel.writeAndFlush(header)
        }
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
        done.whenComplete { _ in closeHandles() }
        return done
    }

    struct ResponseTooLarge: Error, CustomStringConvertible {
        let bytes: Int
        var description: String { "a response of \(bytes) bytes does not fit a Kafka frame" }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client resetting its connection is routine; anything else is worth a warning.
        if let error = error as? IOError, error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
            logger.debug("connection from \(String(describing: context.remoteAddress)) reset: \(error)")
        } else {
            logger.warning("closing connection from \(String(describing: context.remoteAddress)): \(error)")
        }
        context.close(promise: nil)
    }
}
