import Foundation
import PetrelFormat
import Testing
@testable import PetrelStorage

/// Rolling holds no descriptor per sealed segment: a log of many segments (the benchmark's
/// 10,000) must not run out of descriptors while it is written.
@Suite struct RollDescriptorTests {
    func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }

    @Test func manyRollsLeaveNoDescriptorsBehind() throws {
        let directory = TemporaryDirectory()
        var config = LogConfig()
        config.segmentBytes = 1024
        config.segmentIndexBytes = 4096
        let (log, _) = try Log.open(directory: directory.path + "/rolls-0", config: config)
        let batch = makeBatch(count: 1, valueBytes: 600)
        for _ in 0..<50 { try log.append(batch) }
        let before = try openDescriptors()
        for _ in 0..<400 { try log.append(batch) }
        let after = try openDescriptors()
        #expect(log.segmentCount > 400)
        let kinds = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")
        }.map { URL(fileURLWithPath: $0).pathExtension }
        let counts = Dictionary(kinds.map { ($0, 1) }, uniquingKeysWith: +)
        // At most the pending background syncs' segments (3 descriptors each) are open.
        #expect(after - before < 3 * Log.backgroundSyncsPendingMax + 20, "\(after - before) descriptors more after 400 rolls: \(counts)")
        try log.close()
    }
}
