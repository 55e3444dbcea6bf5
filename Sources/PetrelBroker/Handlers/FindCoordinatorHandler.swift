import PetrelProtocol

/// FindCoordinator (key 10), v0–4: on one node this broker coordinates every group. The
/// offsets topic is created on the first group lookup, as Kafka does; a transactional id
/// (key type 1) is refused until transactions exist.
struct FindCoordinatorHandler: RequestHandler {
    let offsetsTopic: OffsetsTopic
    let node: BrokerNode
    var versions: ClosedRange<Int16> { 0...4 }
    // Not only a response: the first lookup creates the offsets topic.
    var respondsOnly: Bool { false }

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> HandlerResult<FindCoordinatorResponse> {
        let keys = context.apiVersion >= 4 ? request.coordinatorKeys : [request.key]
        var coordinators: [FindCoordinatorResponse.Coordinator] = []
        for key in keys {
            var answer = FindCoordinatorResponse.Coordinator(key: key, nodeId: node.nodeId, host: node.host, port: node.port)
            switch request.keyType {
            case 0:
                if let error = await offsetsTopic.ensureExists() {
                    answer = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: error.code, errorMessage: error.message)
                }
            case 1:
                answer = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: .transactionalIdAuthorizationFailed,
                                                             errorMessage: "transactions are not supported by this broker yet")
            default:
                answer = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1, errorCode: .invalidRequest,
                                                             errorMessage: "unknown coordinator key type \(request.keyType)")
            }
            coordinators.append(answer)
        }
        if context.apiVersion >= 4 { return .respond(FindCoordinatorResponse(coordinators: coordinators)) }
        let only = coordinators[0]
        return .respond(FindCoordinatorResponse(errorCode: only.errorCode, errorMessage: only.errorMessage, nodeId: only.nodeId, host: only.host, port: only.port))
    }
}
