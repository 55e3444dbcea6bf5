import NIOCore

/// A request on its way to the broker: its frame (size prefix included), the correlation id its
/// response will carry, and the promise that response completes. `ResponseMatcher` keeps the
/// promise until the matching frame arrives, the timeout passes, or the connection fails.
struct PendingRequest: Sendable {
    let correlationId: Int32
    let frame: ByteBuffer
    /// Completed with the response frame after its correlation id.
    let response: EventLoopPromise<ByteBuffer>
    let timeout: TimeAmount
}
