import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

@Suite struct LogBasicsTests {
    @Test func appendAssignsContiguousOffsetsAndReadsThemBack() throws {
        let directory = TemporaryDirectory()
        let (log, report) = try Log.open(directory: directory.path + "/t-0", config: smallConfig())
        #expect(report.segmentsRecovered.isEmpty)
        var expected: [(Int64, String)] = []
        for tag in 0..<50 {
            let info = try log.append(makeBatch(count: 3, tag: tag))
            #expect(info.firstOffset == Int64(tag * 3))
            #expect(info.lastOffset == Int64(tag * 3 + 2))
            for index in 0..<3 { expected.append((Int64(tag * 3 + index), expectedValue(tag: tag, index: index))) }
        }
        #expect(log.logEndOffset == 150)
        let values = try log.allValues()
        #expect(values.map(\.0) == expected.map(\.0))
        #expect(values.map(\.1) == expected.map(\.1), "each offset holds its own record's whole value")
        #expect(log.segmentCount > 1, "4 KiB segments must have rolled")
        try log.close()
    }

    @Test func reopenAfterCleanCloseKeepsEverything() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        do {
            let (log, _) = try Log.open(directory: path, config: smallConfig())
            for tag in 0..<40 { try log.append(makeBatch(count: 2, tag: tag)) }
            try log.close()
        }
        let (log, report) = try Log.open(directory: path, config: smallConfig(), hadCleanShutdown: true)
        #expect(report.segmentsRecovered.isEmpty)
        #expect(log.logEndOffset == 80)
        #expect(try log.allValues().map(\.0) == (0..<80).map(Int64.init))
        try log.append(makeBatch(count: 1, tag: 99))
        #expect(log.logEndOffset == 81)
        try log.close()
    }

    @Test func readOutsideTheLogIsOutOfRange() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig())
        try log.append(makeBatch(count: 2))
        #expect(throws: StorageError.self) { try log.read(fromOffset: 3, maxBytes: 100) { _ in } }
        let empty = try log.read(fromOffset: 2, maxBytes: 100) { $0.bytes.count }
        #expect(empty == 0)
    }
}
