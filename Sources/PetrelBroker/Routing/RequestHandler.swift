import PetrelProtocol

/// One Kafka API: it decodes nothing and encodes nothing itself — the router reads `Request`
/// and writes `Response` with the generated codecs — and does no work itself: it calls the
/// broker's parts (replica manager, topic registry, coordinators) and maps their answers.
protocol RequestHandler: Sendable {
    associatedtype Request: KafkaMessage
    associatedtype Response: KafkaMessage

    /// The versions this broker implements (a subset of the schema's); ApiVersions advertises
    /// exactly these.
    var versions: ClosedRange<Int16> { get }

    /// Whether the response is all a request of this API does. Such a request is skipped once
    /// its connection has closed, and cancelled if in flight (a fetch waiting for data). Every
    /// other request that was read is handled to the end even when its connection has closed,
    /// as in Kafka: a producer with `acks=0` closes its connection right after its last send,
    /// and what it sent must still be appended.
    var respondsOnly: Bool { get }

    func handle(_ request: Request, context: RequestContext) async -> HandlerResult<Response>
}

/// A handler's answer: a response, possibly with record batches the sender inserts straight
/// from segment files (`sendfile`), or none at all (Produce with `acks=0`).
enum HandlerResult<Response: Sendable>: Sendable {
    case respond(Response, files: [ReplicaManager.FileSlice] = [])
    case noResponse
}
