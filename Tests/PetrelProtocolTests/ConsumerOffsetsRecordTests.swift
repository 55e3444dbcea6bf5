import PetrelProtocol
import Testing

/// The framing of `__consumer_offsets` and `__transaction_state` records: every version of each
/// record type decodes from Kafka's framing, what Petrel writes has the byte layout of
/// guarantees.md §2.2 (and of records a real Kafka broker wrote), and damaged bytes are typed
/// errors.
@Suite struct ConsumerOffsetsRecordTests {
    /// Bytes from hex, spaces and line breaks allowed between fields.
    static func bytes(_ hex: String) -> [UInt8] { KafkaPythonCodec.hexBytes(hex.filter { !$0.isWhitespace }) }

    static func framed(_ value: some KafkaRecordData, _ version: Int16) throws -> [UInt8] {
        var writer = ProtocolWriter()
        writer.writeInt16(version)
        try value.write(version: version, to: &writer)
        return writer.bytes
    }

    @Test func everyVersionOfEveryRecordTypeDecodes() throws {
        for keyVersion in OffsetCommitKey.validVersions {
            let key = OffsetCommitKey.sample(version: keyVersion)
            for valueVersion in OffsetCommitValue.validVersions {
                let value = OffsetCommitValue.sample(version: valueVersion)
                let record = try ConsumerOffsetsRecord.decode(key: Self.framed(key, keyVersion), value: Self.framed(value, valueVersion))
                #expect(record == .offsetCommit(key, value), "key v\(keyVersion) value v\(valueVersion)")
            }
            #expect(try ConsumerOffsetsRecord.decode(key: Self.framed(key, keyVersion), value: nil) == .offsetCommit(key, nil))
        }
        let groupKey = GroupMetadataKey.sample(version: 2)
        for valueVersion in GroupMetadataValue.validVersions {
            let value = GroupMetadataValue.sample(version: valueVersion)
            let record = try ConsumerOffsetsRecord.decode(key: Self.framed(groupKey, 2), value: Self.framed(value, valueVersion))
            #expect(record == .groupMetadata(groupKey, value), "value v\(valueVersion)")
        }
        let transactionKey = TransactionLogKey.sample(version: 0)
        for valueVersion in TransactionLogValue.validVersions {
            let value = TransactionLogValue.sample(version: valueVersion)
            let record = try TransactionStateRecord.decode(key: Self.framed(transactionKey, 0), value: Self.framed(value, valueVersion))
            #expect(record == TransactionStateRecord(key: transactionKey, value: value), "value v\(valueVersion)")
        }
    }

    @Test func whatIsEncodedDecodesBackEqual() throws {
        let records: [ConsumerOffsetsRecord] = [
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3), OffsetCommitValue(offset: 42, leaderEpoch: 5, metadata: "m", commitTimestamp: 1000)),
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3), OffsetCommitValue(offset: 42, leaderEpoch: -1, metadata: "", commitTimestamp: 1000, expireTimestamp: 2000)),
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3), nil),
            .groupMetadata(GroupMetadataKey(group: "g"), .sample(version: 3)),
            .groupMetadata(GroupMetadataKey(group: "g"), nil),
        ]
        for record in records {
            let (key, value) = try record.encoded()
            #expect(try ConsumerOffsetsRecord.decode(key: key, value: value) == record)
        }
        let transactions = [TransactionStateRecord(key: .init(transactionalId: "tx"), value: .sample(version: 0)),
                            TransactionStateRecord(key: .init(transactionalId: "tx"), value: nil)]
        for record in transactions {
            let (key, value) = try record.encoded()
            #expect(try TransactionStateRecord.decode(key: key, value: value) == record)
        }
    }

    /// guarantees.md §2.2: key v1 = group, topic, partition; value v3 = offset, leaderEpoch,
    /// metadata, commitTimestamp; value v1 (an expire timestamp) has no leader epoch.
    @Test func offsetCommitLayout() throws {
        let key = OffsetCommitKey(group: "g", topic: "t", partition: 3)
        let v3 = try ConsumerOffsetsRecord.offsetCommit(key, OffsetCommitValue(offset: 42, leaderEpoch: 7, metadata: "m", commitTimestamp: 1000)).encoded()
        #expect(v3.key == Self.bytes("0001 000167 000174 00000003"))
        #expect(v3.value == Self.bytes("0003 000000000000002a 00000007 00016d 00000000000003e8"))
        let v1 = try ConsumerOffsetsRecord.offsetCommit(key, OffsetCommitValue(offset: 42, leaderEpoch: 7, metadata: "", commitTimestamp: 1000, expireTimestamp: 2000)).encoded()
        #expect(v1.value == Self.bytes("0001 000000000000002a 0000 00000000000003e8 00000000000007d0"))
    }

    /// guarantees.md §2.2: group metadata key v2 = group; value v3 = protocolType, generation,
    /// protocol?, leader?, currentStateTimestamp, then members with groupInstanceId? and the
    /// rebalance timeout (v1+), int32-length bytes for subscription and assignment.
    @Test func groupMetadataLayoutWithOneMember() throws {
        let member = GroupMetadataValue.MemberMetadata(memberId: "m1", groupInstanceId: nil, clientId: "c", clientHost: "/h",
                                                       rebalanceTimeout: 300_000, sessionTimeout: 45_000, subscription: [1, 2], assignment: [3])
        let value = GroupMetadataValue(protocolType: "consumer", generation: 5, protocol: "range", leader: "m1", currentStateTimestamp: 1000, members: [member])
        let encoded = try ConsumerOffsetsRecord.groupMetadata(GroupMetadataKey(group: "g"), value).encoded()
        #expect(encoded.key == Self.bytes("0002 000167"))
        #expect(encoded.value == Self.bytes("""
            0003 0008 636f6e73756d6572 00000005 0005 72616e6765 0002 6d31 00000000000003e8
            00000001 0002 6d31 ffff 0001 63 0002 2f68 000493e0 0000afc8 00000002 0102 00000001 03
            """))
    }

    /// A tombstone is a null value: encoded as nil, decoded to a nil value of the key's type.
    @Test func tombstones() throws {
        let key = OffsetCommitKey(group: "g", topic: "t", partition: 3)
        let encoded = try ConsumerOffsetsRecord.offsetCommit(key, nil).encoded()
        #expect(encoded.value == nil)
        #expect(try ConsumerOffsetsRecord.decode(key: encoded.key, value: nil) == .offsetCommit(key, nil))
        #expect(try ConsumerOffsetsRecord.decode(key: Self.bytes("0002 000167"), value: nil) == .groupMetadata(GroupMetadataKey(group: "g"), nil))
        #expect(try TransactionStateRecord.decode(key: Self.bytes("0000 00027478"), value: nil) == TransactionStateRecord(key: .init(transactionalId: "tx"), value: nil))
    }

    /// Key types 3+ (KIP-848 and share groups) are left alone, whatever their value holds.
    @Test func unknownKeyTypesDecodeAsOther() throws {
        #expect(try ConsumerOffsetsRecord.decode(key: Self.bytes("0003 000167"), value: [0, 0, 1, 2]) == .other(type: 3))
        #expect(try ConsumerOffsetsRecord.decode(key: Self.bytes("000f"), value: nil) == .other(type: 15))
        #expect(throws: ProtocolError.self) { try ConsumerOffsetsRecord.other(type: 3).encoded() }
    }

    /// Every strict prefix of a key or value, a value version the schema lacks, and bytes after
    /// the struct are typed errors.
    @Test func damagedBytesThrow() throws {
        let records: [(key: [UInt8], value: [UInt8]?)] = try [
            ConsumerOffsetsRecord.offsetCommit(.sample(version: 1), .sample(version: 3)).encoded(),
            ConsumerOffsetsRecord.groupMetadata(.sample(version: 2), .sample(version: 3)).encoded(),
        ]
        for (key, value) in records {
            let value = try #require(value)
            for cut in 0..<key.count {
                #expect(throws: ProtocolError.self) { try ConsumerOffsetsRecord.decode(key: Array(key[..<cut]), value: value) }
            }
            for cut in 0..<value.count {
                #expect(throws: ProtocolError.self) { try ConsumerOffsetsRecord.decode(key: key, value: Array(value[..<cut])) }
            }
            #expect(throws: ProtocolError.self) { try ConsumerOffsetsRecord.decode(key: key + [0], value: value) }
            #expect(throws: ProtocolError.self) { try ConsumerOffsetsRecord.decode(key: key, value: value + [0]) }
        }
        let error = #expect(throws: ProtocolError.self) {
            try ConsumerOffsetsRecord.decode(key: Self.bytes("0001 000167 000174 00000003"), value: Self.bytes("0009 00"))
        }
        #expect(error?.reason == .unsupportedRecordVersion(record: "OffsetCommitValue", version: 9))
        let transaction = try TransactionStateRecord(key: .init(transactionalId: "tx"), value: .sample(version: 0)).encoded()
        let value = try #require(transaction.value)
        for cut in 0..<value.count {
            #expect(throws: ProtocolError.self) { try TransactionStateRecord.decode(key: transaction.key, value: Array(value[..<cut])) }
        }
        #expect(throws: ProtocolError.self) { try TransactionStateRecord.decode(key: Self.bytes("0001 00027478"), value: nil) }
    }

    /// kafka-storage.md §9.1: key v0 = transactionalId; value v0 = producerId, producerEpoch,
    /// timeout, status, partitions (nullable: null when Empty), last update and start times.
    @Test func transactionStateLayout() throws {
        let ongoing = TransactionLogValue(producerId: 7, producerEpoch: 2, transactionTimeoutMs: 60_000, transactionStatus: 1,
                                          transactionPartitions: [.init(topic: "t", partitionIds: [0, 4])],
                                          transactionLastUpdateTimestampMs: 2000, transactionStartTimestampMs: 1000)
        let encoded = try TransactionStateRecord(key: .init(transactionalId: "tx"), value: ongoing).encoded()
        #expect(encoded.key == Self.bytes("0000 00027478"))
        #expect(encoded.value == Self.bytes("""
            0000 0000000000000007 0002 0000ea60 01 00000001 000174 00000002 00000000 00000004 00000000000007d0 00000000000003e8
            """))
        var empty = ongoing
        empty.transactionStatus = 0
        empty.transactionPartitions = nil
        #expect(try empty.encodedValue().dropFirst(2 + 8 + 2 + 4 + 1).prefix(4) == [0xff, 0xff, 0xff, 0xff])
        var tv2 = ongoing
        tv2.clientTransactionVersion = 2
        #expect(throws: ProtocolError.self) { try TransactionStateRecord(key: .init(transactionalId: "tx"), value: tv2).encoded() }
    }

    /// Records a Kafka broker wrote to `__consumer_offsets` for an rdkafka consumer of topic t01
    /// (group "kafkesc-devcluster-group-id"), from github.com/kafkesc/konsumer_offsets
    /// fixtures/tests/offset_commit/05.{key,payload} and group_metadata/02.{key,payload}: they
    /// decode to what that project's fixtures say, and Petrel encodes the same values to the
    /// same bytes.
    @Test func recordsWrittenByKafkaDecodeAndReencodeIdentically() throws {
        let group = "6b61666b6573632d646576636c75737465722d67726f75702d6964"  // 27 bytes
        let memberId = "72646b61666b612d39663466633162302d316437642d343437312d393065382d653066363466336339643966"  // 44 bytes
        let commitKey = Self.bytes("0001 001b \(group) 0003 743031 00000000")
        let commitValue = Self.bytes("0003 0000000000003b1e ffffffff 0000 000001857ede99f3")
        let commit = try ConsumerOffsetsRecord.decode(key: commitKey, value: commitValue)
        #expect(commit == .offsetCommit(OffsetCommitKey(group: "kafkesc-devcluster-group-id", topic: "t01", partition: 0),
                                        OffsetCommitValue(offset: 15134, leaderEpoch: -1, metadata: "", commitTimestamp: 1_672_870_795_763)))
        #expect(try commit.encoded() == (commitKey, commitValue))

        let groupKey = Self.bytes("0002 001b \(group)")
        let groupValue = Self.bytes("""
            0003 0008 636f6e73756d6572 00000003 0005 72616e6765 002c \(memberId) 000001857edafbc3 00000001
            002c \(memberId) ffff 0007 72646b61666b61 000b 2f3137322e31382e302e31 000493e0 0000afc8
            00000013 0001 00000001 0003 743031 00000000 00000000
            0000001f 0000 00000001 0003 743031 00000003 00000000 00000001 00000002 00000000
            """)
        let metadata = try ConsumerOffsetsRecord.decode(key: groupKey, value: groupValue)
        guard case let .groupMetadata(key, value?) = metadata else { Issue.record("not group metadata: \(metadata)"); return }
        #expect(key.group == "kafkesc-devcluster-group-id")
        #expect(value.protocolType == "consumer" && value.generation == 3 && value.protocol == "range")
        #expect(value.leader == "rdkafka-9f4fc1b0-1d7d-4471-90e8-e0f64f3c9d9f" && value.currentStateTimestamp == 1_672_870_558_659)
        let member = try #require(value.members.first)
        #expect(value.members.count == 1 && member.memberId == value.leader && member.groupInstanceId == nil)
        #expect(member.clientId == "rdkafka" && member.clientHost == "/172.18.0.1")
        #expect(member.rebalanceTimeout == 300_000 && member.sessionTimeout == 45_000)
        #expect(member.subscription.count == 0x13 && member.assignment.count == 0x1f)
        #expect(try metadata.encoded() == (groupKey, groupValue))
    }
}

extension TransactionLogValue {
    /// The framed v0 value alone.
    fileprivate func encodedValue() throws -> [UInt8] {
        try #require(try TransactionStateRecord(key: .init(), value: self).encoded().value)
    }
}
