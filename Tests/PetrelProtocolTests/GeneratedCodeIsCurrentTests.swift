import Foundation
import Testing

/// The committed generated code is what the generator makes of the schemas now: it regenerates
/// into a temporary directory and compares file by file (missing, extra or different files
/// fail). Needs Kafka's schemas at ../shared/kafka-schemas/messages beside the repository.
@Suite struct GeneratedCodeIsCurrentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("../shared/kafka-schemas/messages").standardizedFileURL
    static var schemasPresent: Bool { FileManager.default.fileExists(atPath: schemas.appendingPathComponent("MetadataRequest.json").path) }

    @Test(.enabled(if: schemasPresent, "Kafka's schemas are not at ../shared/kafka-schemas/messages: nothing to regenerate from"))
    func committedMessagesMatchARegeneration() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-codegen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let messages = scratch.appendingPathComponent("Messages"), samples = scratch.appendingPathComponent("MessageSamples.swift")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root.appendingPathComponent("Tools/codegen/generate-messages.py").path,
                             "--schemas", Self.schemas.path, "--out", messages.path, "--samples-out", samples.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the generator failed")

        let committed = Self.root.appendingPathComponent("Sources/PetrelProtocol/Messages")
        let fresh = try Set(FileManager.default.contentsOfDirectory(atPath: messages.path))
        let kept = try Set(FileManager.default.contentsOfDirectory(atPath: committed.path))
        #expect(fresh.subtracting(kept).sorted() == [], "generated but not committed")
        #expect(kept.subtracting(fresh).sorted() == [], "committed but no longer generated")
        #expect(fresh.count > 70)
        for name in fresh.intersection(kept).sorted() {
            let expected = try Data(contentsOf: messages.appendingPathComponent(name))
            #expect(try Data(contentsOf: committed.appendingPathComponent(name)) == expected, "\(name) is stale: run Tools/codegen/generate-messages.py")
        }
        let committedSamples = Self.root.appendingPathComponent("Tests/PetrelProtocolTests/Generated/MessageSamples.swift")
        #expect(try Data(contentsOf: committedSamples) == Data(contentsOf: samples), "MessageSamples.swift is stale")
    }
}
