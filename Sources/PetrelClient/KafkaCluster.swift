import NIOCore
import NIOPosix
public import PetrelProtocol

/// A Kafka-compatible cluster as one client sees it from a bootstrap address: it keeps one
/// connection per broker address, learns node addresses from Metadata, and finds a group's
/// coordinator. The group and offset operations (`KafkaCluster+Groups`, `+Offsets`) build on it.
///
/// It speaks only the Kafka protocol, so it works against any broker that does, not only Petrel.
/// An actor: connections are opened on demand from concurrent tasks, and the cache must not
/// open two to one broker.
public actor KafkaCluster {
    public let bootstrap: BrokerAddress
    private let clientId: String
    private let requestTimeout: TimeAmount
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private var connections: [BrokerAddress: KafkaConnection] = [:]
    /// Node ids to advertised addresses, from the latest Metadata answer.
    private var nodes: [Int32: BrokerAddress] = [:]

    /// How often a coordinator lookup is repeated while the broker says it is not ready yet
    /// (Kafka answers COORDINATOR_NOT_AVAILABLE while it creates `__consumer_offsets`).
    static let coordinatorAttemptsMax = 10
    static let coordinatorRetryDelay = Duration.milliseconds(250)

    /// - Parameter requestTimeout: for connecting, and then for each request's answer.
    public init(bootstrap: BrokerAddress, clientId: String = "petrel-groups", requestTimeout: Duration = .seconds(10)) {
        self.bootstrap = bootstrap
        self.clientId = clientId
        self.requestTimeout = TimeAmount(requestTimeout)
    }

    /// Closes every connection.
    public func close() async {
        for connection in connections.values { await connection.close() }
        connections = [:]
    }

    /// The connection to `address`, opened (and handshaken) on first use.
    public func connection(to address: BrokerAddress) async throws(ClientError) -> KafkaConnection {
        if let open = connections[address] { return open }
        let opened = try await KafkaConnection.connect(to: address, on: group, clientId: clientId, timeout: requestTimeout)
        // Another task may have connected while this one waited: keep the first.
        if let open = connections[address] {
            await opened.close()
            return open
        }
        connections[address] = opened
        return opened
    }

    /// Metadata for `topics` (nil: every topic; empty: brokers only), without creating topics.
    public func metadata(topics: [String]?) async throws(ClientError) -> MetadataResponse {
        let connection = try await connection(to: bootstrap)
        let version = try connection.version(of: .metadata)
        // v1-3 cannot ask not to create a topic (it is the broker's choice there).
        let request = MetadataRequest(topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } },
                                      allowAutoTopicCreation: version < 4)
        let response = try await connection.send(request, version: version, as: MetadataResponse.self)
        for broker in response.brokers where (1...65_535).contains(broker.port) {
            nodes[broker.nodeId] = BrokerAddress(host: broker.host, port: Int(broker.port))
        }
        return response
    }

    /// Every broker of the cluster, by its advertised address.
    public func brokers() async throws(ClientError) -> [BrokerAddress] {
        _ = try await metadata(topics: [])
        return nodes.keys.sorted().compactMap { nodes[$0] }
    }

    /// The connection to node `id` (its address from Metadata, asked again if not known yet).
    public func connection(toNode id: Int32) async throws(ClientError) -> KafkaConnection {
        if nodes[id] == nil { _ = try await metadata(topics: []) }
        guard let address = nodes[id] else { throw ClientError(broker: bootstrap, .unknownNode(id)) }
        return try await connection(to: address)
    }

    /// The connection to the coordinator of group `groupId` (FindCoordinator, key type 0).
    public func coordinator(ofGroup groupId: String) async throws(ClientError) -> KafkaConnection {
        let connection = try await connection(to: bootstrap)
        let version = try connection.version(of: .findCoordinator)
        // v4 batches keys; earlier versions take one.
        let request = version >= 4 ? FindCoordinatorRequest(keyType: 0, coordinatorKeys: [groupId]) : FindCoordinatorRequest(key: groupId)
        var attempt = 1
        while true {
            let response = try await connection.send(request, version: version, as: FindCoordinatorResponse.self)
            let answer: (ErrorCode, String?, String, Int32)? = version >= 4
                ? response.coordinators.first.map { ($0.errorCode, $0.errorMessage, $0.host, $0.port) }
                : (response.errorCode, response.errorMessage, response.host, response.port)
            guard case let (errorCode, message, host, port)? = answer else {
                throw ClientError(broker: connection.address, .brokerError(api: .findCoordinator, .invalidRequest, message: "no coordinator in the answer"))
            }
            if errorCode == .none {
                guard (1...65_535).contains(port) else {
                    throw ClientError(broker: connection.address, .brokerError(api: .findCoordinator, .unknownServerError, message: "coordinator port \(port)"))
                }
                return try await self.connection(to: BrokerAddress(host: host, port: Int(port)))
            }
            let retriable = errorCode == .coordinatorNotAvailable || errorCode == .coordinatorLoadInProgress
            guard retriable, attempt < Self.coordinatorAttemptsMax else {
                throw ClientError(broker: connection.address, .brokerError(api: .findCoordinator, errorCode, message: message))
            }
            attempt += 1
            try? await Task.sleep(for: Self.coordinatorRetryDelay)
        }
    }
}
