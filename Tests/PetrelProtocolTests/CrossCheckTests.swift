import Foundation
import PetrelProtocol
import Testing

/// Requests encoded by kafka-python decode in Petrel to the same fields; responses encoded by
/// Petrel decode in kafka-python to the same fields — for every version advertised.
@Suite struct CrossCheckTests {
    @Test(arguments: Array(Int16(0)...4))
    func apiVersionsRequestFromKafkaPython(version: Int16) throws {
        var reader = ProtocolReader(try KafkaPythonCodec.request("api_versions", version: version))
        let header = try RequestHeader.read(from: &reader)
        #expect(header == RequestHeader(apiKey: 18, apiVersion: version, correlationId: 7, clientId: "cid"))
        let request = try ApiVersionsRequest.read(version: version, from: &reader)
        try reader.expectEnd()
        if version >= 3 {
            #expect(request == ApiVersionsRequest(clientSoftwareName: "kafka-python", clientSoftwareVersion: "3.0.12"))
        }
    }

    @Test(arguments: Array(Int16(0)...4))
    func apiVersionsResponseToKafkaPython(version: Int16) throws {
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 41, apiKey: .apiVersions, apiVersion: version, to: &writer)
        let table = [ApiVersionRange(.produce, 0, 9), ApiVersionRange(.fetch, 4, 12), ApiVersionRange(.apiVersions, 0, 4)]
        var response = ApiVersionsResponse(apiKeys: table.map(ApiVersionsResponse.ApiVersion.init))
        response.throttleTimeMs = 5
        try response.write(version: version, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("api_versions", version: version, writer.bytes)
        #expect(decoded["correlation_id"] as? Int == 41)
        let body = try #require(decoded["body"] as? [String: Any])
        #expect(body["error_code"] as? Int == 0)
        let keys = try #require(body["api_keys"] as? [[String: Any]])
        #expect(keys.map { $0["api_key"] as? Int } == table.map { Int($0.apiKey.rawValue) })
        #expect(keys.map { $0["max_version"] as? Int } == table.map { Int($0.maxVersion) })
        if version >= 1 { #expect(body["throttle_time_ms"] as? Int == 5) }
    }

    /// Too new a version gets UNSUPPORTED_VERSION as a v0 body, which kafka-python reads as v0
    /// whatever version it asked for.
    @Test func unsupportedApiVersionsAnswerDecodesAsV0() throws {
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 3, apiKey: .apiVersions, apiVersion: 0, to: &writer)
        let response = ApiVersionsResponse(errorCode: .unsupportedVersion, apiKeys: [.init(ApiVersionRange(.apiVersions, 0, 4))])
        try response.write(version: 0, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("api_versions", version: 4, writer.bytes)
        let body = try #require(decoded["body"] as? [String: Any])
        #expect(body["error_code"] as? Int == 35)
        let keys = try #require(body["api_keys"] as? [[String: Any]])
        #expect(keys.count == 1 && keys[0]["api_key"] as? Int == 18 && keys[0]["max_version"] as? Int == 4)
    }

    @Test(arguments: Array(Int16(0)...12))
    func metadataRequestFromKafkaPython(version: Int16) throws {
        var reader = ProtocolReader(try KafkaPythonCodec.request("metadata", version: version))
        let header = try RequestHeader.read(from: &reader)
        #expect(header == RequestHeader(apiKey: 3, apiVersion: version, correlationId: 7, clientId: "cid"))
        let request = try MetadataRequest.read(version: version, from: &reader)
        try reader.expectEnd()
        #expect(request.topics?.map(\.name) == ["orders", "payments"])
        #expect(request.allowAutoTopicCreation == (version < 4))
        #expect(request.includeTopicAuthorizedOperations == (version >= 8))
    }

    @Test(arguments: Array(Int16(0)...12))
    func metadataResponseToKafkaPython(version: Int16) throws {
        let topicId = try #require(Uuid(bytes: (0..<16).map { UInt8($0 + 1) }))
        let response = MetadataResponse(
            throttleTimeMs: 9,
            brokers: [.init(nodeId: 1, host: "127.0.0.1", port: 9092)],
            clusterId: "petrel-cluster", controllerId: 1,
            topics: [
                .init(name: "orders", topicId: topicId, partitions: [
                    .init(partitionIndex: 0, leaderId: 1, leaderEpoch: 4, replicaNodes: [1], isrNodes: [1]),
                    .init(partitionIndex: 1, leaderId: 1, leaderEpoch: 4, replicaNodes: [1], isrNodes: [1]),
                ]),
                .init(errorCode: .unknownTopicOrPartition, name: "missing", partitions: []),
            ])
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 12, apiKey: .metadata, apiVersion: version, to: &writer)
        try response.write(version: version, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("metadata", version: version, writer.bytes)
        #expect(decoded["correlation_id"] as? Int == 12)
        let body = try #require(decoded["body"] as? [String: Any])
        let brokers = try #require(body["brokers"] as? [[String: Any]])
        #expect(brokers.count == 1 && brokers[0]["host"] as? String == "127.0.0.1" && brokers[0]["port"] as? Int == 9092)
        if version >= 2 { #expect(body["cluster_id"] as? String == "petrel-cluster") }
        if version >= 1 { #expect(body["controller_id"] as? Int == 1) }
        if version >= 3 { #expect(body["throttle_time_ms"] as? Int == 9) }
        let topics = try #require(body["topics"] as? [[String: Any]])
        #expect(topics.map { $0["name"] as? String } == ["orders", "missing"])
        #expect(topics.map { $0["error_code"] as? Int } == [0, 3])
        let partitions = try #require(topics[0]["partitions"] as? [[String: Any]])
        #expect(partitions.map { $0["partition_index"] as? Int } == [0, 1])
        #expect(partitions.allSatisfy { $0["leader_id"] as? Int == 1 && ($0["replica_nodes"] as? [Int]) == [1] })
        if version >= 7 { #expect(partitions.allSatisfy { $0["leader_epoch"] as? Int == 4 }) }
        if version >= 10 { #expect(topics[0]["topic_id"] as? String == UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)).uuidString.lowercased()) }
    }
}
