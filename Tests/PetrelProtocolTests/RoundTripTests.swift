import PetrelProtocol
import PetrelTestSupport
import Testing

/// Every generated message and internal-topic record in every version its schema defines: a
/// populated value (every field of the version set away from its default, tagged fields
/// included) writes and reads back equal, and every strict prefix of its encoding is a typed
/// error, never a trap.
@Suite struct RoundTripTests {
    /// One case per message type; the versions are looped inside.
    @Test(arguments: MessageSamples.all.indices)
    func populatedValuesRoundTripAndTruncationsThrow(index: Int) throws {
        try check(MessageSamples.all[index])
    }

    /// The same for the records of `__consumer_offsets` and `__transaction_state`.
    @Test(arguments: RecordSamples.all.indices)
    func populatedRecordsRoundTripAndTruncationsThrow(index: Int) throws {
        try check(RecordSamples.all[index])
    }

    func check<T: KafkaMessage & Sampled>(_: T.Type) throws { try check(Codec(T.self)) }
    func check<T: KafkaRecordData & Sampled>(_: T.Type) throws { try check(Codec(T.self)) }

    func check<T>(_ codec: Codec<T>) throws {
        for version in codec.versions {
            let value = T.sample(version: version)
            var writer = ProtocolWriter()
            try codec.write(value, version, &writer)
            var reader = ProtocolReader(writer.bytes)
            let decoded = try codec.read(version, &reader)
            try reader.expectEnd()
            #expect(decoded == value, "\(T.self) v\(version)")
            for cut in 0..<writer.bytes.count {
                var truncated = ProtocolReader(Array(writer.bytes[..<cut]))
                #expect(throws: ProtocolError.self, "\(T.self) v\(version) cut at \(cut)") {
                    _ = try codec.read(version, &truncated)
                    try truncated.expectEnd()
                }
            }
        }
    }

    /// Damaged encodings (a few bytes replaced) of every message version decode or throw, never trap.
    @Test(arguments: MessageSamples.all.indices)
    func damagedEncodingsNeverTrap(index: Int) throws {
        try damage(MessageSamples.all[index], seed: UInt64(index + 1))
    }

    @Test(arguments: RecordSamples.all.indices)
    func damagedRecordEncodingsNeverTrap(index: Int) throws {
        try damage(RecordSamples.all[index], seed: UInt64(index + 101))
    }

    func damage<T: KafkaMessage & Sampled>(_: T.Type, seed: UInt64) throws { try damage(Codec(T.self), seed: seed) }
    func damage<T: KafkaRecordData & Sampled>(_: T.Type, seed: UInt64) throws { try damage(Codec(T.self), seed: seed) }

    func damage<T>(_ codec: Codec<T>, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for version in codec.versions {
            var writer = ProtocolWriter()
            try codec.write(T.sample(version: version), version, &writer)
            guard !writer.bytes.isEmpty else { continue }
            for _ in 0..<50 {
                var bytes = writer.bytes
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                var reader = ProtocolReader(bytes)
                _ = try? codec.read(version, &reader)
            }
        }
    }

    /// A message's or a record's codec, so one check covers both protocols (they differ only in
    /// the API key).
    struct Codec<T: Sampled & Equatable> {
        let versions: ClosedRange<Int16>
        let write: (T, Int16, inout ProtocolWriter) throws(ProtocolError) -> Void
        let read: (Int16, inout ProtocolReader) throws(ProtocolError) -> T
    }

    /// A version outside the schema's range is a typed error both ways.
    @Test func versionsOutsideTheSchemaAreRefused() throws {
        var writer = ProtocolWriter()
        #expect(throws: ProtocolError(.unsupportedVersion(apiKey: 3, version: 13), position: 0)) {
            try MetadataRequest().write(version: 13, to: &writer)
        }
        var reader = ProtocolReader([])
        #expect(throws: ProtocolError(.unsupportedVersion(apiKey: 3, version: -1), position: 0)) {
            _ = try MetadataRequest.read(version: -1, from: &reader)
        }
    }
}

/// What the writer does with a value its version cannot carry.
@Suite struct EncodingRuleTests {
    /// Not ignorable: Metadata's TopicAuthorizedOperations (v8+) set for v7 is refused.
    @Test func aNonIgnorableFieldAbsentFromTheVersionIsATypedError() throws {
        var writer = ProtocolWriter()
        let response = MetadataResponse(topics: [.init(name: "t", topicAuthorizedOperations: 5)])
        let error = #expect(throws: ProtocolError.self) { try response.write(version: 7, to: &writer) }
        #expect(error?.reason == .fieldNotInVersion(field: "TopicAuthorizedOperations", version: 7))
        try response.write(version: 8, to: &writer)
    }

    /// Ignorable: Metadata's ClusterId (v2+) is dropped in v1.
    @Test func anIgnorableFieldAbsentFromTheVersionIsDropped() throws {
        var withId = ProtocolWriter(), without = ProtocolWriter()
        try MetadataResponse(clusterId: "c").write(version: 1, to: &withId)
        try MetadataResponse(clusterId: nil).write(version: 1, to: &without)
        #expect(withId.bytes == without.bytes)
    }

    @Test func nullInANonNullableVersionIsATypedError() throws {
        var writer = ProtocolWriter()
        let response = MetadataResponse(topics: [.init(name: nil)])
        let error = #expect(throws: ProtocolError.self) { try response.write(version: 11, to: &writer) }
        #expect(error?.reason == .nullNotAllowed(field: "Name"))
        try response.write(version: 12, to: &writer)
    }

    @Test func anOverlongStringIsATypedError() {
        var writer = ProtocolWriter()
        let error = #expect(throws: ProtocolError.self) {
            try writer.writeString(String(repeating: "x", count: Int(Int16.max) + 1), compact: false, field: "s")
        }
        #expect(error?.reason == .tooLong(field: "s", length: Int(Int16.max) + 1))
    }

    /// Tagged fields: written only when non-default, read back, unknown tags skipped.
    @Test func taggedFieldsAreWrittenWhenSetAndUnknownOnesSkipped() throws {
        var plain = ProtocolWriter(), tagged = ProtocolWriter()
        try FetchResponse().write(version: 12, to: &plain)
        var partition = FetchResponse.PartitionData(records: .empty)
        partition.divergingEpoch = .init(epoch: 3, endOffset: 99)
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [partition])])
        try response.write(version: 12, to: &tagged)
        var reader = ProtocolReader(tagged.bytes)
        #expect(try FetchResponse.read(version: 12, from: &reader) == response)
        #expect(plain.bytes.last == 0, "no tagged fields: an empty section")

        // ApiVersionsRequest v3 with an unknown tag 7 of 2 bytes in its top-level section.
        var unknown = ProtocolWriter()
        try ApiVersionsRequest(clientSoftwareName: "a", clientSoftwareVersion: "1").write(version: 3, to: &unknown)
        var bytes = Array(unknown.bytes.dropLast())
        bytes += [1, 7, 2, 0xAB, 0xCD]
        var unknownReader = ProtocolReader(bytes)
        #expect(try ApiVersionsRequest.read(version: 3, from: &unknownReader) == ApiVersionsRequest(clientSoftwareName: "a", clientSoftwareVersion: "1"))
        try unknownReader.expectEnd()
    }

    /// A known tagged field whose declared size is larger than what it holds is malformed.
    @Test func aKnownTaggedFieldOfTheWrongSizeIsATypedError() throws {
        // FetchResponse v16 by hand: throttle, error, session, no topics, then tag 0
        // (NodeEndpoints) declared as 2 bytes holding an empty array (1 byte) and a stray byte.
        let body: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        var reader = ProtocolReader(body + [1, 0, 2, 1, 0xFF])
        let error = #expect(throws: ProtocolError.self) { _ = try FetchResponse.read(version: 16, from: &reader) }
        #expect(error?.reason == .invalidLength(field: "NodeEndpoints", length: 1))
        var exact = ProtocolReader(body + [1, 0, 1, 1])
        #expect(try FetchResponse.read(version: 16, from: &exact).nodeEndpoints == [])
    }

    @Test func externalRecordsLeaveAHoleForTheSender() throws {
        var writer = ProtocolWriter()
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [.init(records: .external(tag: 4, count: 1000))])])
        try response.write(version: 12, to: &writer)
        #expect(writer.externalParts.count == 1 && writer.externalParts[0].tag == 4 && writer.externalParts[0].count == 1000)
        #expect(writer.messageBytes == writer.bytes.count + 1000)
    }

    @Test func unknownErrorCodesDecode() throws {
        var writer = ProtocolWriter()
        try InitProducerIdResponse(errorCode: ErrorCode(rawValue: 9999)).write(version: 4, to: &writer)
        var reader = ProtocolReader(writer.bytes)
        #expect(try InitProducerIdResponse.read(version: 4, from: &reader).errorCode.rawValue == 9999)
    }

    /// The first flexible versions now come from the schemas; those the hand-written table had
    /// must not have moved.
    @Test func firstFlexibleVersionsAreTheOnesTheBrokerUsed() {
        let before: [ApiKey: Int16] = [
            .produce: 9, .fetch: 12, .listOffsets: 6, .metadata: 9, .offsetCommit: 8, .offsetFetch: 6, .findCoordinator: 3,
            .joinGroup: 6, .heartbeat: 4, .leaveGroup: 4, .syncGroup: 4, .describeGroups: 5, .listGroups: 3, .apiVersions: 3,
            .createTopics: 5, .deleteTopics: 4, .initProducerId: 2, .offsetForLeaderEpoch: 4, .addPartitionsToTxn: 3,
            .addOffsetsToTxn: 3, .endTxn: 3, .txnOffsetCommit: 3, .describeConfigs: 4, .createPartitions: 2,
        ]
        for (key, first) in before { #expect(key.firstFlexibleVersion == first, "\(key)") }
        #expect(ApiKey.saslHandshake.firstFlexibleVersion == nil && !ApiKey.saslHandshake.isFlexible(1))
        #expect(ApiKey.allCases.count == 36)
    }

    @Test func uuidsNeedSixteenBytes() {
        #expect(Uuid(bytes: [UInt8](repeating: 1, count: 15)) == nil)
        let id = Uuid(bytes: Array(1...16))
        #expect(id?.bytes == Array(1...16))
        #expect(id?.description == "01020304-0506-0708-090a-0b0c0d0e0f10")
    }
}

extension RoundTripTests.Codec where T: KafkaMessage {
    init(_: T.Type) {
        self.init(versions: T.validVersions, write: { value, version, writer throws(ProtocolError) in try value.write(version: version, to: &writer) },
                  read: { version, reader throws(ProtocolError) in try T.read(version: version, from: &reader) })
    }
}

extension RoundTripTests.Codec where T: KafkaRecordData {
    init(_: T.Type) {
        self.init(versions: T.validVersions, write: { value, version, writer throws(ProtocolError) in try value.write(version: version, to: &writer) },
                  read: { version, reader throws(ProtocolError) in try T.read(version: version, from: &reader) })
    }
}
