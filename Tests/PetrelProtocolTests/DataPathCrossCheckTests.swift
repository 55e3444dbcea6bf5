import Foundation
import PetrelProtocol
import Testing

/// Produce, Fetch and ListOffsets against kafka-python's codec, for every version implemented.
@Suite struct DataPathCrossCheckTests {
    func decode<T>(_ api: String, _ version: Int16, _ read: (Int16, inout ProtocolReader) throws(ProtocolError) -> T) throws -> (RequestHeader, T) {
        var reader = ProtocolReader(try KafkaPythonCodec.request(api, version: version))
        let header = try RequestHeader.read(from: &reader)
        let body = try read(version, &reader)
        try reader.expectEnd()
        return (header, body)
    }

    /// Records count of the first RecordBatch v2 in `bytes` (bytes 57–60 of its header).
    func recordsCount(_ bytes: ArraySlice<UInt8>?) -> Int? {
        guard let bytes, bytes.count >= 61 else { return nil }
        return bytes.dropFirst(57).prefix(4).reduce(0) { $0 << 8 | Int($1) }
    }

    @Test(arguments: Array(Int16(3)...9))
    func produceRequestFromKafkaPython(version: Int16) throws {
        let (header, request) = try decode("produce", version) { (version, reader) throws(ProtocolError) in try ProduceRequest.read(version: version, from: &reader) }
        #expect(header.apiKey == 0 && header.apiVersion == version && header.correlationId == 7)
        #expect(request.acks == -1 && request.timeoutMs == 1500 && request.transactionalId == nil)
        #expect(request.topicData.map(\.name) == ["orders"])
        #expect(request.topicData[0].partitionData.map(\.index) == [0, 1])
        #expect(request.topicData[0].partitionData.map { recordsCount($0.records?.inlineBytes) } == [3, 3])
        let records = try #require(request.topicData[0].partitionData[0].records?.inlineBytes)
        #expect(records[records.startIndex + 16] == 2, "magic 2")
    }

    @Test(arguments: Array(Int16(3)...9))
    func produceResponseToKafkaPython(version: Int16) throws {
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 21, apiKey: .produce, apiVersion: version, to: &writer)
        try ProduceResponse(responses: [.init(name: "orders", partitionResponses: [
            .init(index: 0, errorCode: .none, baseOffset: 100, logStartOffset: 0),
            .init(index: 1, errorCode: .corruptMessage, baseOffset: -1, errorMessage: "CRC32C mismatch"),
        ])], throttleTimeMs: 3).write(version: version, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("produce", version: version, writer.bytes)
        #expect(decoded["correlation_id"] as? Int == 21)
        let body = try #require(decoded["body"] as? [String: Any])
        let topics = try #require(body["responses"] as? [[String: Any]])
        let partitions = try #require(topics.first?["partition_responses"] as? [[String: Any]])
        #expect(partitions.map { $0["error_code"] as? Int } == [0, 2])
        #expect(partitions[0]["base_offset"] as? Int == 100)
        #expect(body["throttle_time_ms"] as? Int == 3)
        if version >= 8 { #expect(partitions[1]["error_message"] as? String == "CRC32C mismatch") }
    }

    @Test(arguments: Array(Int16(4)...12))
    func fetchRequestFromKafkaPython(version: Int16) throws {
        let (header, request) = try decode("fetch", version) { (version, reader) throws(ProtocolError) in try FetchRequest.read(version: version, from: &reader) }
        #expect(header.apiKey == 1 && header.apiVersion == version)
        #expect(request.maxWaitMs == 500 && request.minBytes == 1 && request.maxBytes == 1 << 20 && request.isolationLevel == 1)
        #expect(request.topics.map(\.topic) == ["orders"])
        #expect(request.topics[0].partitions.map(\.fetchOffset) == [5, 7])
        #expect(request.topics[0].partitions.allSatisfy { $0.partitionMaxBytes == 65536 })
    }

    @Test(arguments: Array(Int16(4)...12))
    func fetchResponseToKafkaPython(version: Int16) throws {
        // A batch built by kafka-python: the first partition's records of its produce request.
        let (_, produce) = try decode("produce", 3) { (version, reader) throws(ProtocolError) in try ProduceRequest.read(version: version, from: &reader) }
        let batch = Array(try #require(produce.topicData[0].partitionData[0].records?.inlineBytes))
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 33, apiKey: .fetch, apiVersion: version, to: &writer)
        try FetchResponse(responses: [.init(topic: "orders", partitions: [
            .init(partitionIndex: 0, errorCode: .none, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0, records: .bytes(batch[...])),
            .init(partitionIndex: 1, errorCode: .offsetOutOfRange, highWatermark: 3, lastStableOffset: 3, logStartOffset: 0, records: nil),
        ])]).write(version: version, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("fetch", version: version, writer.bytes)
        #expect(decoded["correlation_id"] as? Int == 33)
        let body = try #require(decoded["body"] as? [String: Any])
        let topics = try #require(body["responses"] as? [[String: Any]])
        let partitions = try #require(topics.first?["partitions"] as? [[String: Any]])
        #expect(partitions.map { $0["error_code"] as? Int } == [0, 1])
        #expect(partitions.map { $0["high_watermark"] as? Int } == [10, 3])
        #expect(partitions[0]["records"] as? String == batch.map { String(format: "%02x", $0) }.joined())
    }

    @Test(arguments: Array(Int16(1)...7))
    func listOffsetsBothWays(version: Int16) throws {
        let (header, request) = try decode("list_offsets", version) { (version, reader) throws(ProtocolError) in try ListOffsetsRequest.read(version: version, from: &reader) }
        #expect(header.apiKey == 2 && header.apiVersion == version)
        #expect(request.topics.first?.partitions.map(\.timestamp) == [ListOffsetsRequest.earliestTimestamp, 1_700_000_000_001])
        var writer = ProtocolWriter()
        ResponseHeader.write(correlationId: 5, apiKey: .listOffsets, apiVersion: version, to: &writer)
        let epoch: Int32 = version >= 4 ? 0 : -1
        try ListOffsetsResponse(topics: [.init(name: "orders", partitions: [
            .init(partitionIndex: 0, errorCode: .none, timestamp: -1, offset: 0, leaderEpoch: epoch),
            .init(partitionIndex: 1, errorCode: .none, timestamp: 1_700_000_000_001, offset: 42, leaderEpoch: epoch),
        ])]).write(version: version, to: &writer)
        let decoded = try KafkaPythonCodec.decodeResponse("list_offsets", version: version, writer.bytes)
        let body = try #require(decoded["body"] as? [String: Any])
        let partitions = try #require((body["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]])
        #expect(partitions.map { $0["offset"] as? Int } == [0, 42])
        #expect(partitions.map { $0["timestamp"] as? Int } == [-1, 1_700_000_000_001])
    }
}
