import Foundation
import PetrelRepair
import PetrelStorage
import Testing

/// Power loss between an index's msync and its trim leaves the preallocated size on disk; for a
/// segment without batches that is an index of zeros only, which fsck must take for what it is.
@Suite struct UntrimmedIndexTests {
    @Test func allZeroIndexOfAnEmptyLastSegmentIsAWarning() throws {
        let root = NSTemporaryDirectory() + "petrel-untrimmed-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }  // cleanup only
        let partition = root + "/orders-0"
        try FileManager.default.createDirectory(atPath: partition, withIntermediateDirectories: true)
        try PartitionMetadataFile(directory: partition).write(topicId: Array(repeating: 7, count: 16))
        try Data().write(to: URL(fileURLWithPath: SegmentFiles.logPath(partition, 0)))
        try Data(count: 96).write(to: URL(fileURLWithPath: SegmentFiles.offsetIndexPath(partition, 0)))
        try Data(count: 96).write(to: URL(fileURLWithPath: SegmentFiles.timeIndexPath(partition, 0)))
        let result = try LogDirectoryChecker(path: root).check()
        #expect(result.errorCount == 0, "\(result.findings)")
        #expect(result.findings.filter { $0.kind == .indexPreallocatedTail && $0.severity == .warning }.count == 2)
    }
}
