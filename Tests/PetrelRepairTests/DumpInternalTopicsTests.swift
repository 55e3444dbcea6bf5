import Foundation
import PetrelFormat
import PetrelProtocol
import PetrelStorage
import Testing

/// `petrel dump --records` on segments of `__consumer_offsets` and `__transaction_state`
/// written by PetrelStorage: each record's key and value are printed decoded, tombstones say
/// so, a record that does not decode is printed raw with the reason, and transaction markers
/// are left as they are. Runs the built `petrel` (PETREL_BIN, or .build/debug/petrel).
@Suite struct DumpInternalTopicsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let petrel = ProcessInfo.processInfo.environment["PETREL_BIN"] ?? root.appendingPathComponent(".build/debug/petrel").path
    static var petrelBuilt: Bool { FileManager.default.isExecutableFile(atPath: petrel) }

    let data = NSTemporaryDirectory() + "petrel-dump-internal-\(UUID().uuidString)"

    /// Appends one batch per list of records to the partition's log; the path of its first segment.
    func segment(_ partition: TopicPartition, _ batches: [[(key: [UInt8], value: [UInt8]?)]], marker: Bool = false) throws -> String {
        let manager = try LogManager(dataDirectory: data, defaultConfig: LogConfig())
        let log = try manager.createLog(for: partition)
        for records in batches {
            var builder = RecordBatchBuilder()
            for record in records { builder.append(key: record.key, value: record.value, timestamp: 1_700_000_000_000) }
            try log.append(try builder.build())
        }
        if marker {
            try log.append(EndTransactionMarker(type: .commit, coordinatorEpoch: 0).batch(producerId: 9, producerEpoch: 0, timestamp: 1_700_000_000_001), origin: .coordinator)
        }
        try manager.close()
        return SegmentFiles.logPath("\(data)/\(partition.directoryName)", 0)
    }

    func dump(_ arguments: [String]) throws -> (status: Int32, lines: [String]) {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.petrel)
        process.arguments = ["dump", "--records"] + arguments
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    @Test(.enabled(if: petrelBuilt, "petrel is not built: run `swift build` first or set PETREL_BIN"))
    func consumerOffsetsRecordsAreDecoded() throws {
        defer { try? FileManager.default.removeItem(atPath: data) }  // cleanup only
        let commitKey = OffsetCommitKey(group: "g", topic: "t", partition: 3)
        let member = GroupMetadataValue.MemberMetadata(memberId: "m1", clientId: "c", clientHost: "/127.0.0.1", rebalanceTimeout: 300_000,
                                                       sessionTimeout: 45_000, subscription: [0, 1], assignment: [2])
        let records: [ConsumerOffsetsRecord] = [
            .offsetCommit(commitKey, OffsetCommitValue(offset: 42, leaderEpoch: -1, metadata: "", commitTimestamp: 1_700_000_000_000)),
            .groupMetadata(GroupMetadataKey(group: "g"), GroupMetadataValue(protocolType: "consumer", generation: 5, protocol: "range", leader: "m1",
                                                                            currentStateTimestamp: 1_700_000_000_000, members: [member])),
            .offsetCommit(commitKey, nil),
        ]
        // A KIP-848 record (type 5) and a key cut short after its type.
        let path = try segment(TopicPartition(topic: "__consumer_offsets", partition: 7),
                               [try records.map { try $0.encoded() }, [([0, 5, 0, 1, 0x67], [0, 0]), ([0, 1, 0], [0, 3])]], marker: true)

        let text = try dump([path])
        #expect(text.status == 0)
        let lines = text.lines.filter { $0.hasPrefix("| ") }
        try #require(lines.count == 6, "\(text.lines)")
        #expect(lines[0] == "| offset: 0 timestamp: 1700000000000 offset-commit group=g topic=t partition=3 offset=42 leaderEpoch=-1 metadata=\"\" commitTimestamp=1700000000000")
        #expect(lines[1] == "| offset: 1 timestamp: 1700000000000 group-metadata group=g protocolType=consumer generation=5 protocol=range leader=m1 "
                    + "currentStateTimestamp=1700000000000 members=[{memberId=m1 groupInstanceId=null clientId=c clientHost=/127.0.0.1 "
                    + "rebalanceTimeout=300000 sessionTimeout=45000 subscription=0x0001 assignment=0x02}]")
        #expect(lines[2] == "| offset: 2 timestamp: 1700000000000 offset-commit group=g topic=t partition=3 <tombstone>")
        #expect(lines[3].hasSuffix("(record type 5 not decoded)"))
        #expect(lines[4].contains("key: 0x000100") && lines[4].contains("decodeError: truncated"), "\(lines[4])")
        #expect(lines[5].contains("key: 0x00000001"), "the commit marker is shown raw: \(lines[5])")

        let json = try dump(["--json", path])
        let batches = try json.lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let all = batches.flatMap { $0["records"] as? [[String: Any]] ?? [] }
        try #require(all.count == 6)
        let commit = try #require(all[0]["decoded"] as? [String: Any])
        #expect(commit["kind"] as? String == "offset-commit")
        #expect((commit["key"] as? [String: Any])?["group"] as? String == "g")
        #expect((commit["value"] as? [String: Any])?["offset"] as? Int == 42)
        let group = try #require((all[1]["decoded"] as? [String: Any])?["value"] as? [String: Any])
        #expect((group["members"] as? [[String: Any]])?.first?["subscription"] as? String == "0001")
        #expect((all[2]["decoded"] as? [String: Any])?["value"] is NSNull, "a tombstone's value is null")
        #expect(all[3]["decoded"] == nil && all[3]["decodeError"] == nil)
        #expect((all[4]["decodeError"] as? String)?.hasPrefix("truncated") == true)
        #expect(all[5]["decoded"] == nil && all[5]["decodeError"] == nil)
    }

    @Test(.enabled(if: petrelBuilt, "petrel is not built: run `swift build` first or set PETREL_BIN"))
    func transactionStateRecordsAreDecoded() throws {
        defer { try? FileManager.default.removeItem(atPath: data) }  // cleanup only
        let key = TransactionLogKey(transactionalId: "tx-1")
        let ongoing = TransactionLogValue(producerId: 7, producerEpoch: 2, transactionTimeoutMs: 60_000, transactionStatus: 1,
                                          transactionPartitions: [.init(topic: "t", partitionIds: [0, 4])],
                                          transactionLastUpdateTimestampMs: 2000, transactionStartTimestampMs: 1000)
        let path = try segment(TopicPartition(topic: "__transaction_state", partition: 0),
                               [[try TransactionStateRecord(key: key, value: ongoing).encoded(), try TransactionStateRecord(key: key, value: nil).encoded()]])
        let text = try dump([path])
        let records = text.lines.filter { $0.hasPrefix("| ") }
        #expect(text.status == 0)
        #expect(records == [
            "| offset: 0 timestamp: 1700000000000 transaction-state transactionalId=tx-1 producerId=7 producerEpoch=2 transactionTimeoutMs=60000 "
                + "transactionStatus=1 state=Ongoing partitions=[{topic=t partitions=[0,4]}] lastUpdateTimestamp=2000 startTimestamp=1000",
            "| offset: 1 timestamp: 1700000000000 transaction-state transactionalId=tx-1 <tombstone>",
        ])
        let json = try dump(["--json", path])
        let line = try #require(json.lines.first)
        let batch = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let decoded = try #require((batch["records"] as? [[String: Any]])?.first?["decoded"] as? [String: Any])
        #expect((decoded["value"] as? [String: Any])?["state"] as? String == "Ongoing")
    }
}
