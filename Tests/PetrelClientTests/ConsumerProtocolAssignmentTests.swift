import PetrelClient
import PetrelProtocol
import Testing

/// The consumer protocol's assignment bytes, as a group leader writes them into SyncGroup and
/// DescribeGroups returns them, decode to the partitions assigned in every version; later
/// versions are read as v3, and damaged bytes are typed errors.
@Suite struct ConsumerProtocolAssignmentTests {
    /// Assignment bytes in the layout of ConsumerProtocolAssignment.json (v0-3 share it).
    static func encode(version: Int16, _ topics: [(String, [Int32])], userData: [UInt8]?) throws -> [UInt8] {
        var writer = ProtocolWriter()
        writer.writeInt16(version)
        try writer.writeArrayCount(topics.count, compact: false)
        for (topic, partitions) in topics {
            try writer.writeString(topic, compact: false)
            try writer.writeArrayCount(partitions.count, compact: false)
            for partition in partitions { writer.writeInt32(partition) }
        }
        try writer.writeBytes(userData, compact: false)
        return writer.bytes
    }

    @Test(arguments: Array(Int16(0)...3))
    func everyVersionDecodes(version: Int16) throws {
        let bytes = try Self.encode(version: version, [("orders", [3, 1]), ("audit", [0])], userData: [7, 8])
        let assignment = try ConsumerProtocolAssignment.decode(bytes)
        #expect(assignment.version == version)
        #expect(assignment.topics.map(\.topic) == ["orders", "audit"])
        #expect(assignment.topics.map(\.partitions) == [[3, 1], [0]])
        #expect(assignment.userData == [7, 8])
        #expect(assignment.partitions == [TopicPartition("audit", 0), TopicPartition("orders", 1), TopicPartition("orders", 3)])
    }

    @Test func handWrittenBytesWithNullUserDataDecode() throws {
        // v0, topic "t" with partitions 0 and 1, user data null (length -1), written out byte by byte.
        let bytes: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF]
        let assignment = try ConsumerProtocolAssignment.decode(bytes)
        #expect(assignment.partitions == [TopicPartition("t", 0), TopicPartition("t", 1)])
        #expect(assignment.userData == nil)
    }

    @Test func emptyBytesAreNoAssignment() throws {
        #expect(try ConsumerProtocolAssignment.decode([]).partitions.isEmpty)
    }

    @Test func aLaterVersionIsReadAsVersionThree() throws {
        let bytes = try Self.encode(version: 4, [("t", [2])], userData: nil) + [0x01, 0x02]
        #expect(try ConsumerProtocolAssignment.decode(bytes).partitions == [TopicPartition("t", 2)])
    }

    @Test func damagedBytesAreTypedErrors() throws {
        let bytes = try Self.encode(version: 1, [("orders", [0, 1, 2])], userData: nil)
        #expect(throws: ProtocolError.self) { try ConsumerProtocolAssignment.decode(Array(bytes.prefix(12))) }
        #expect(throws: ProtocolError.self) { try ConsumerProtocolAssignment.decode([0xFF, 0xFF, 0, 0, 0, 0]) }
        // A partition count larger than the bytes left is refused before anything is allocated.
        #expect(throws: ProtocolError.self) { try ConsumerProtocolAssignment.decode([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0x7F, 0xFF, 0xFF, 0xFF]) }
    }
}
