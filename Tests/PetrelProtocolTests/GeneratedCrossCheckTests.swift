import Foundation
import PetrelProtocol
import Testing

/// Every generated message and version against kafka-python 3's own schema-driven codec, in one
/// python process: Petrel's encoding of the populated sample must decode in kafka-python with
/// no byte left, and kafka-python's re-encoding of what it decoded must be the same bytes — so
/// both sides read every field the same way, and kafka-python's bytes decode in Petrel to the
/// sample. The bytes kafka-python produced are checked in under Golden/ (written with
/// `PETREL_WRITE_GOLDEN=1`), and `GoldenBytesTests` checks them without python.
///
/// Gaps: kafka-python 3.0.12 knows every generated message, but not these versions (below its
/// schemas' minimum: Kafka 4 removed them), which are therefore only round-tripped in Petrel —
/// 36 message versions, requests and responses alike:
/// Produce 0–2, Fetch 0–3, ListOffsets 0, OffsetCommit 0–1, OffsetFetch 0, CreateTopics 0–1,
/// DeleteTopics 0, OffsetForLeaderEpoch 0–1, WriteTxnMarkers 0, DescribeConfigs 0.
@Suite struct GeneratedCrossCheckTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Name, version and Petrel's encoding of every generated message's sample.
    static func encodings() throws -> [(name: String, version: Int16, bytes: [UInt8])] {
        var items: [(name: String, version: Int16, bytes: [UInt8])] = []
        for type in MessageSamples.all { items += try encodings(of: type) }
        return items
    }

    static func encodings<T: KafkaMessage & Sampled>(of type: T.Type) throws -> [(name: String, version: Int16, bytes: [UInt8])] {
        try T.validVersions.map { version in
            var writer = ProtocolWriter()
            try crossCheckSample(T.self, version: version).write(version: version, to: &writer)
            return ("\(T.self)", version, writer.bytes)
        }
    }

    /// The sample, except that an ApiVersionsResponse carries no error: kafka-python decodes a
    /// response with an error as v0 whatever the version (as Kafka's clients do, KIP-511).
    static func crossCheckSample<T: KafkaMessage & Sampled>(_: T.Type, version: Int16) -> T {
        let sample = T.sample(version: version)
        guard var response = sample as? ApiVersionsResponse else { return sample }
        response.errorCode = .none
        return response as? T ?? sample
    }

    @Test func kafkaPythonReadsAndRewritesEveryMessageAlike() throws {
        let items = try Self.encodings()
        let results = try KafkaPythonCodec.reencode(items)
        try #require(results.count == items.count)
        var gaps: [String] = []
        let writeGolden = ProcessInfo.processInfo.environment["PETREL_WRITE_GOLDEN"] == "1"
        for (item, result) in zip(items, results) {
            let label = "\(item.name) v\(item.version)"
            let status = result["status"] as? String ?? "no status"
            guard status == "ok" else {
                #expect(!status.hasPrefix("error") && !status.contains("left after"), "\(label): \(status)")
                gaps.append(label)
                continue
            }
            let theirs = result["hex"] as? String ?? ""
            #expect(theirs == KafkaPythonCodec.hex(item.bytes), "\(label): kafka-python re-encodes differently")
            if writeGolden && theirs == KafkaPythonCodec.hex(item.bytes) {
                let file = Self.goldenDirectory.appendingPathComponent("\(item.name)-v\(item.version).hex")
                try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
                try Data((theirs + "\n").utf8).write(to: file)
            }
        }
        // The gaps listed above: 36 message versions.
        #expect(gaps.count == Self.expectedGaps, "gaps: \(gaps.joined(separator: ", "))")
        #expect(items.count - gaps.count == GoldenBytesTests.goldenFiles().count, "a golden file for every version checked")
    }

    static let expectedGaps = 36
}

/// kafka-python's bytes for every checked message and version, checked in: Petrel's encoding of
/// the same sample equals them, and decoding them gives the sample.
@Suite struct GoldenBytesTests {
    static func goldenFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: GeneratedCrossCheckTests.goldenDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".hex") }.sorted().map { GeneratedCrossCheckTests.goldenDirectory.appendingPathComponent($0) }
    }

    @Test func petrelEncodesAndDecodesTheGoldenBytes() throws {
        let files = Self.goldenFiles()
        #expect(files.count == 378, "every generated message version kafka-python knows")
        let types = Dictionary(uniqueKeysWithValues: MessageSamples.all.map { ("\($0)", $0) })
        for file in files {
            let stem = file.deletingPathExtension().lastPathComponent
            let parts = stem.split(separator: "-v")
            let type = try #require(types[String(parts[0])], "\(stem): no such message")
            let version = try #require(Int16(parts[1]))
            let golden = KafkaPythonCodec.hexBytes(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            try check(type, version: version, golden: golden, label: stem)
        }
    }

    func check<T: KafkaMessage & Sampled>(_ type: T.Type, version: Int16, golden: [UInt8], label: String) throws {
        let sample = GeneratedCrossCheckTests.crossCheckSample(T.self, version: version)
        var writer = ProtocolWriter()
        try sample.write(version: version, to: &writer)
        #expect(writer.bytes == golden, "\(label): Petrel's encoding")
        var reader = ProtocolReader(golden)
        #expect(try T.read(version: version, from: &reader) == sample, "\(label): decoding kafka-python's bytes")
        try reader.expectEnd()
    }
}
