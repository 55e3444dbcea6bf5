import PetrelProtocol

/// DescribeConfigs (key 32), v1–4: a topic's settings (its overrides over the broker's) or the
/// broker's own.
struct DescribeConfigsHandler: RequestHandler {
    let topics: TopicRegistry
    let descriptions: ConfigDescriptions
    var versions: ClosedRange<Int16> { 1...4 }
    var respondsOnly: Bool { true }

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async -> HandlerResult<DescribeConfigsResponse> {
        .respond(DescribeConfigsResponse(results: request.resources.map { resource in
            func failed(_ code: ErrorCode, _ message: String) -> DescribeConfigsResponse.DescribeConfigsResult {
                .init(errorCode: code, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [])
            }
            var entries: [ConfigDescriptions.Entry]
            switch resource.resourceType {
            case DescribeConfigsRequest.topicResource:
                guard topics.info(resource.resourceName) != nil else { return failed(.unknownTopicOrPartition, "no topic \(resource.resourceName)") }
                entries = descriptions.topic(resource.resourceName)
            case DescribeConfigsRequest.brokerResource:
                // An empty name asks for the cluster-wide defaults, which are this broker's.
                guard resource.resourceName.isEmpty || resource.resourceName == String(descriptions.config.nodeId) else {
                    return failed(.invalidRequest, "unexpected broker id: this is broker \(descriptions.config.nodeId), the request names \(resource.resourceName)")
                }
                entries = descriptions.broker
            default:
                return failed(.invalidRequest, "resource type \(resource.resourceType) is not supported")
            }
            if let keys = resource.configurationKeys { entries = entries.filter { keys.contains($0.name) } }
            return .init(errorCode: .none, errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName,
                         configs: entries.map {
                             .init(name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source, configType: $0.type, documentation: nil)
                         })
        }))
    }
}
