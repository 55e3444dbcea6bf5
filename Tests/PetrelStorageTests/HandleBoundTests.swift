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
}
