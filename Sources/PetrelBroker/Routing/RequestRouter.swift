import PetrelProtocol

/// Reads a request's header, hands the body to the handler registered for its API and version,
/// and encodes what the handler returns. ApiVersions is answered here, from the registered
/// handlers: the broker advertises exactly what it routes.
struct RequestRouter: Sendable {
    /// The versions of ApiVersions itself.
    static let apiVersionsVersions: ClosedRange<Int16> = 0...4

    private struct Route: Sendable {
        let versions: ClosedRange<Int16>
        let respondsOnly: Bool
        let run: @Sendable (inout ProtocolReader, RequestContext) async throws(ProtocolError) -> BrokerResponse?
    }

    private let routes: [ApiKey: Route]
    /// What ApiVersions answers, in API key order.
    let supportedApis: [ApiVersionRange]

    init(handlers: [any RequestHandler]) {
        var routes: [ApiKey: Route] = [:]
        for handler in handlers {
            let (key, route) = Self.route(for: handler)
            precondition(routes[key] == nil, "two handlers registered for API \(key)")
            precondition(handler.versions.clamped(to: Self.schemaVersions(of: handler)) == handler.versions,
                         "handler for API \(key) claims versions its schema does not define")
            routes[key] = route
        }
        precondition(routes[.apiVersions] == nil, "ApiVersions is the router's own")
        self.routes = routes
        let apis = routes.map { ApiVersionRange($0.key, $0.value.versions.lowerBound, $0.value.versions.upperBound) }
            + [ApiVersionRange(.apiVersions, Self.apiVersionsVersions.lowerBound, Self.apiVersionsVersions.upperBound)]
        supportedApis = apis.sorted { $0.apiKey.rawValue < $1.apiKey.rawValue }
    }

    private static func schemaVersions<H: RequestHandler>(of _: H) -> ClosedRange<Int16> { H.Request.validVersions }

    private static func route<H: RequestHandler>(for handler: H) -> (ApiKey, Route) {
        (H.Request.apiKey, Route(versions: handler.versions, respondsOnly: handler.respondsOnly) { reader, context throws(ProtocolError) in
            let request = try H.Request.read(version: context.apiVersion, from: &reader)
            switch await handler.handle(request, context: context) {
            case .noResponse:
                return nil
            case let .respond(response, files):
                return try encode(response, files: files, context: context)
            }
        })
    }

    private static func encode<R: KafkaMessage>(_ response: R, files: [ReplicaManager.FileSlice], context: RequestContext,
                                                as apiVersion: Int16? = nil) throws(ProtocolError) -> BrokerResponse {
        var writer = ProtocolWriter(reservingCapacity: 1024)
        let version = apiVersion ?? context.apiVersion
        ResponseHeader.write(correlationId: context.header.correlationId, apiKey: R.apiKey, apiVersion: version, to: &writer)
        try response.write(version: version, to: &writer)
        // Each external part's tag is the index of its file slice.
        return BrokerResponse(bytes: writer.bytes, fileParts: writer.externalParts.map { part in
            BrokerResponse.FilePart(position: part.position, lease: files[part.tag], count: part.count)
        })
    }

    /// Whether the response is all the frame's request would do (`RequestHandler.respondsOnly`),
    /// so it need not be handled once its connection has closed. ApiVersions responds only; so
    /// does a frame too short to name its API, or naming one not routed (it is refused anyway).
    func respondsOnly(frame: FrameBytes) -> Bool {
        var reader = ProtocolReader(frame: frame)
        let key: Int16
        do { key = try reader.readInt16() } catch { return true }
        guard let api = ApiKey(rawValue: key), let route = routes[api] else { return true }
        return route.respondsOnly
    }

    /// Handles one request frame (without its size prefix). Returns the response (header +
    /// body, without the size prefix), or nil when no response is due.
    ///
    /// - Throws: `ProtocolError` when the frame is malformed, or names an API or version not
    ///   routed (except ApiVersions): the caller closes the connection, as Kafka does.
    func route(frame: FrameBytes, clientHost: String = "") async throws(ProtocolError) -> BrokerResponse? {
        var reader = ProtocolReader(frame: frame)
        let header = try RequestHeader.read(from: &reader)
        let context = RequestContext(header: header, clientHost: clientHost)
        guard let api = header.knownApi else { throw ProtocolError(.unknownApiKey(header.apiKey), position: 0) }
        if api == .apiVersions { return try apiVersions(&reader, context: context) }
        guard let route = routes[api] else { throw ProtocolError(.unknownApiKey(header.apiKey), position: 0) }
        guard route.versions.contains(header.apiVersion) else {
            throw ProtocolError(.unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion), position: 2)
        }
        return try await route.run(&reader, context)
    }

    private func apiVersions(_ reader: inout ProtocolReader, context: RequestContext) throws(ProtocolError) -> BrokerResponse {
        guard Self.apiVersionsVersions.contains(context.apiVersion) else {
            // Too new: answer in v0 with UNSUPPORTED_VERSION and ApiVersions' own range, so the
            // client retries with a version both know (what Apache Kafka does).
            let response = ApiVersionsResponse(errorCode: .unsupportedVersion, apiKeys: supportedApis.filter { $0.apiKey == .apiVersions }.map(ApiVersionsResponse.ApiVersion.init))
            return try Self.encode(response, files: [], context: context, as: 0)
        }
        _ = try ApiVersionsRequest.read(version: context.apiVersion, from: &reader)
        return try Self.encode(ApiVersionsResponse(apiKeys: supportedApis.map(ApiVersionsResponse.ApiVersion.init)), files: [], context: context)
    }
}
