import NIOCore

/// Pairs each response frame with the request that carries its correlation id.
///
/// Kafka answers a connection's requests in order, but matching by id rather than by position
/// means a response that arrives after its request timed out is recognised and dropped instead
/// of being taken for the next request's. Everything here runs on the channel's event loop, so
/// the table needs no lock. A failed or closed connection fails every request still waiting.
final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private var waiting: [Int32: (promise: EventLoopPromise<ByteBuffer>, timeout: Scheduled<Void>)] = [:]
    /// Why the connection can no longer answer, once it cannot.
    private var failure: (any Error)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.response.fail(failure)
            promise?.fail(failure)
            return
        }
        let id = request.correlationId
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) { [weak self] in
            guard let self, let entry = self.waiting.removeValue(forKey: id) else { return }
            entry.promise.fail(ResponseTimeout())
        }
        waiting[id] = (request.response, timeout)
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let id = frame.readInteger(as: Int32.self), let entry = waiting.removeValue(forKey: id) else { return }
        entry.timeout.cancel()
        entry.promise.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ConnectionClosed())
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        if failure == nil { failure = error }
        let entries = waiting.values
        waiting.removeAll()
        for entry in entries {
            entry.timeout.cancel()
            entry.promise.fail(error)
        }
    }

    /// The request's time ran out before its response arrived.
    struct ResponseTimeout: Error {}

    /// The broker closed the connection.
    struct ConnectionClosed: Error, CustomStringConvertible {
        var description: String { "the broker closed the connection" }
    }
}
