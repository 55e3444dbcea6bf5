import PetrelProtocol
import PetrelTestSupport
import Testing

/// Bad frames give a typed error with a byte position, never a crash or a huge allocation.
@Suite struct MalformedInputTests {
    func request(version: Int16) throws -> [UInt8] {
        var writer = ProtocolWriter()
        try RequestHeader(apiKey: 3, apiVersion: version, correlationId: 1, clientId: "c").write(to: &writer)
        try MetadataRequest(topics: [.init(name: "orders"), .init(name: "payments")]).write(version: version, to: &writer)
        return writer.bytes
    }

    func decode(_ bytes: [UInt8]) throws(ProtocolError) -> MetadataRequest {
        var reader = ProtocolReader(bytes)
        let header = try RequestHeader.read(from: &reader)
        let request = try MetadataRequest.read(version: header.apiVersion, from: &reader)
        try reader.expectEnd()
        return request
    }

    @Test(arguments: [Int16(0), 4, 9, 12])
    func everyTruncationIsATypedError(version: Int16) throws {
        let bytes = try request(version: version)
        #expect(try decode(bytes).topics?.count == 2)
        for cut in 0..<bytes.count {
            #expect(throws: ProtocolError.self, "cut at \(cut)") { try decode(Array(bytes[..<cut])) }
        }
    }

    @Test func hugeCountsAreRejectedBeforeAllocating() throws {
        var writer = ProtocolWriter()
        try RequestHeader(apiKey: 3, apiVersion: 1, correlationId: 1, clientId: nil).write(to: &writer)
        writer.writeInt32(Int32.max)  // two billion topics, in a 20-byte frame
        let error = #expect(throws: ProtocolError.self) { try decode(writer.bytes) }
        #expect(error?.reason == .invalidLength(field: "Topics", length: Int64(Int32.max)))
        #expect(error?.position == 10)  // right after the 10-byte header
    }

    @Test func overlongVarintIsMalformed() throws {
        var reader = ProtocolReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: ProtocolError(.malformedVarint, position: 0)) { try reader.readUnsignedVarint() }
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SeededGenerator(seed: 0xBAD)
        for round in 0..<20_000 {
            var bytes = try request(version: Int16(round % 13))
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? decode(bytes)
        }
    }

    @Test func varintsRoundTrip() throws {
        for value: UInt32 in [0, 1, 127, 128, 16_383, 16_384, UInt32.max] {
            var writer = ProtocolWriter()
            writer.writeUnsignedVarint(value)
            var reader = ProtocolReader(writer.bytes)
            #expect(try reader.readUnsignedVarint() == value)
        }
    }
}
