import Foundation
@testable import PetrelStorage
import Testing

@Suite struct HandleBoundTests {
    /// Descriptors and mappings of this process that point into `directory`.
    func openFiles(under directory: String) -> (descriptors: Int, mappings: Int) {
        let descriptors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "").hasPrefix(directory)
        }.count
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        let mappings = maps.split(separator: "\n").filter { $0.contains(directory) }.count
        return (descriptors, mappings)
    }

    @Test func readingHundredsOfSegmentsKeepsDescriptorsAndMappingsBounded() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition(topic: "many", partition: 0)
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 1024))
            let log = try manager.createLog(for: partition)
            for tag in 0..<1500 { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
            try manager.close()
        }
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 1024), openSegmentsMax: 8)
        let log = try #require(manager.log(for: partition))
        #expect(log.segmentCount > 150)
        #expect(try log.allValues().count == 1500)
        for _ in 0..<3 { _ = try log.offset(forTimestamp: 1_000) }
        #expect(manager.handleCache.openCount <= 8)
        let open = openFiles(under: directory.path)
        // The active segment (log, index, time index) and the lock file; sealed ones hold none.
        #expect(open.descriptors <= 4)
        // Up to 3 mappings per cached sealed segment, plus the active segment's 3.
        #expect(open.mappings <= 8 * 3 + 3)
        try manager.close()
    }

    /// Readers on several threads read across many segments while a two-entry handle cache
    /// evicts mappings under them: every value read is the right one (the mapping a reader uses
    /// stays mapped until its body returns).
    @Test func concurrentReadersWithASmallHandleCacheReadEveryValueRight() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition(topic: "churn", partition: 0)
        let batches = 400
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 1024))
            let log = try manager.createLog(for: partition)
            for tag in 0..<batches { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
            try manager.close()
        }
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 1024), openSegmentsMax: 2)
        let log = try #require(manager.log(for: partition))
        #expect(log.segmentCount > 40)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { reader in
            var generator = SeededGenerator(seed: UInt64(reader + 1))
            for _ in 0..<1500 {
                let offset = Int.random(in: 0..<batches, using: &generator)
                do {
                    let records = try log.readRecords(fromOffset: Int64(offset), maxRecords: 2)
                    let values = records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                    let expected = (offset..<min(offset + 2, batches)).map { expectedValue(tag: $0, index: 0, valueBytes: 100) }
                    if records.map(\.offset) != (offset..<min(offset + 2, batches)).map(Int64.init) || values != expected {
                        failures.withLock { $0.append("at \(offset): \(values)") }
                    }
                } catch {
                    failures.withLock { $0.append("at \(offset): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(manager.handleCache.openCount <= 2)
        try manager.close()
    }
}
