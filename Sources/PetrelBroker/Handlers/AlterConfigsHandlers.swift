import PetrelProtocol

/// Kafka's config resource types.
enum ConfigResourceType {
    static let topic: Int8 = 2
    static let broker: Int8 = 4
}

/// What altering one resource's configs gave, as both AlterConfigs responses carry it.
private struct AlterOutcome {
    var code: ErrorCode = .none
    var message: String?
}

/// Alters one resource: a topic's overrides through the registry, a broker's dynamic settings
/// through `BrokerSettings` (cluster default for "", this node for its id).
private func alter(resourceType: Int8, name: String, topics: TopicRegistry, settings: BrokerSettings,
                   newSettings: ([String: String]) throws(TopicRegistry.TopicChangeError) -> [String: String], validateOnly: Bool) -> AlterOutcome {
    do throws(TopicRegistry.TopicChangeError) {
        switch resourceType {
        case ConfigResourceType.topic:
            guard topics.info(name) != nil else { return AlterOutcome(code: .unknownTopicOrPartition, message: "no topic \(name)") }
            try topics.replaceConfigs(of: name, with: try newSettings(topics.overrides(of: name)), validateOnly: validateOnly)
        case ConfigResourceType.broker:
            try settings.alter(resourceName: name, validateOnly: validateOnly, topics: topics, cleaner: topics.manager.cleaner, change: newSettings)
        default:
            return AlterOutcome(code: .invalidRequest, message: "resource type \(resourceType) is not supported")
        }
        return AlterOutcome()
    } catch {
        return AlterOutcome(code: error.code, message: error.message)
    }
}

/// AlterConfigs (key 33), v0–2: replaces a resource's whole set of overrides.
struct AlterConfigsHandler: RequestHandler {
    let topics: TopicRegistry
    let settings: BrokerSettings
    let executor: StorageExecutor
    var versions: ClosedRange<Int16> { 0...2 }
    var respondsOnly: Bool { false }

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async -> HandlerResult<AlterConfigsResponse> {
        // Blocking: the overrides are stored durably before they apply.
        .respond(await executor.run { [topics, settings] in
            AlterConfigsResponse(responses: request.resources.map { resource in
                let outcome = alter(resourceType: resource.resourceType, name: resource.resourceName,
                                    topics: topics, settings: settings, newSettings: { (_) throws(TopicRegistry.TopicChangeError) in
                                        var overrides: [String: String] = [:]
                                        for config in resource.configs {
                                            guard overrides[config.name] == nil else {
                                                throw TopicRegistry.TopicChangeError(code: .invalidRequest, message: "\(config.name) is given twice")
                                            }
                                            if let value = config.value { overrides[config.name] = value }
                                        }
                                        return overrides
                                    }, validateOnly: request.validateOnly)
                return .init(errorCode: outcome.code, errorMessage: outcome.message, resourceType: resource.resourceType,
                             resourceName: resource.resourceName)
            })
        })
    }
}

/// IncrementalAlterConfigs (key 44), v0–1: SET, DELETE, APPEND and SUBTRACT on single settings.
struct IncrementalAlterConfigsHandler: RequestHandler {
    let topics: TopicRegistry
    let settings: BrokerSettings
    let executor: StorageExecutor
    let descriptions: ConfigDescriptions
    var versions: ClosedRange<Int16> { 0...1 }
    var respondsOnly: Bool { false }

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async -> HandlerResult<IncrementalAlterConfigsResponse> {
        .respond(await executor.run { [topics, settings, descriptions] in
            IncrementalAlterConfigsResponse(responses: request.resources.map { resource in
                let outcome = alter(resourceType: resource.resourceType, name: resource.resourceName,
                                    topics: topics, settings: settings, newSettings: { (current) throws(TopicRegistry.TopicChangeError) in
                                        var overrides = current
                                        var seen = Set<String>()
                                        let effective = resource.resourceType == ConfigResourceType.topic
                                            ? descriptions.topic(resource.resourceName) : descriptions.broker
                                        for config in resource.configs {
                                            guard seen.insert(config.name).inserted else {
                                                throw TopicRegistry.TopicChangeError(code: .invalidRequest, message: "\(config.name) is given twice")
                                            }
                                            guard let operation = ConfigOperation(rawValue: config.configOperation) else {
                                                throw TopicRegistry.TopicChangeError(code: .invalidRequest, message: "unknown operation \(config.configOperation) on \(config.name)")
                                            }
                                            try operation.apply(to: &overrides, name: config.name, value: config.value,
                                                                current: effective.first { $0.name == config.name }?.value)
                                        }
                                        return overrides
                                    }, validateOnly: request.validateOnly)
                return .init(errorCode: outcome.code, errorMessage: outcome.message, resourceType: resource.resourceType,
                             resourceName: resource.resourceName)
            })
        })
    }
}
