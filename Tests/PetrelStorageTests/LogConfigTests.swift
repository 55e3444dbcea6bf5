import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

@Suite struct LogConfigTests {
    struct BadValue: Sendable, CustomTestStringConvertible {
        let setting: String
        let value: String
        let apply: @Sendable (inout LogConfig) -> Void
        var testDescription: String { "\(setting)=\(value)" }
    }

    static let badValues: [BadValue] = [
        BadValue(setting: "segment.bytes", value: "13") { $0.segmentBytes = 13 },
        BadValue(setting: "segment.bytes", value: "3000000000") { $0.segmentBytes = 3_000_000_000 },
        BadValue(setting: "segment.ms", value: "0") { $0.segmentMs = 0 },
        BadValue(setting: "segment.index.bytes", value: "12") { $0.segmentIndexBytes = 12 },
        BadValue(setting: "index.interval.bytes", value: "-1") { $0.indexIntervalBytes = -1 },
        BadValue(setting: "max.message.bytes", value: "-5") { $0.maxMessageBytes = -5 },
        BadValue(setting: "retention.ms", value: "-2") { $0.retentionMs = -2 },
        BadValue(setting: "retention.bytes", value: "-2") { $0.retentionBytes = -2 },
        BadValue(setting: "producer.id.expiration.ms", value: "0") { $0.producerIdExpirationMs = 0 },
        BadValue(setting: "flush.messages", value: "0") { $0.flushPolicy = .interval(messages: 0, milliseconds: 1000) },
        BadValue(setting: "flush.ms", value: "-1") { $0.flushPolicy = .interval(messages: 10, milliseconds: -1) },
        BadValue(setting: "appendQueueBytesMax", value: "0") { $0.appendQueueBytesMax = 0 },
    ]

    /// Operator input out of range is a typed error naming the setting, never a trap; opening a
    /// log with it fails the same way.
    @Test(arguments: badValues)
    func aSettingOutOfRangeIsATypedErrorNamingIt(bad: BadValue) throws {
        var config = LogConfig()
        bad.apply(&config)
        let error = #expect(throws: StorageError.self) { try config.validated() }
        guard case let .invalidConfig(problem) = error?.code else {
            Issue.record("expected invalidConfig, got \(String(describing: error))")
            return
        }
        #expect(problem.setting == bad.setting)
        #expect(problem.value == bad.value)
        #expect(error?.description.hasPrefix(bad.setting) == true)
        let directory = TemporaryDirectory()
        #expect(throws: StorageError.self) { try Log.open(directory: directory.path + "/t-0", config: config) }
    }

    @Test func theMessageNamesTheBrokerSettingAndTheRange() throws {
        var config = LogConfig()
        config.segmentBytes = 13
        let error = #expect(throws: StorageError.self) { try config.validated() }
        #expect(error?.description == "segment.bytes (broker: log.segment.bytes)=13 is out of range: must be in [61, 2147483647] "
            + "(the smallest RecordBatch v2 is 61 bytes; offset-index positions are int32)")
    }

    @Test func kafkasDefaultsAndTheSmallestAcceptedValuesAreValid() throws {
        #expect(try LogConfig().validated() == LogConfig())
        var config = LogConfig()
        config.segmentBytes = LogConfig.segmentBytesMinimum
        config.segmentIndexBytes = LogConfig.segmentIndexBytesMinimum
        config.maxMessageBytes = 0
        config.segmentMs = 1
        _ = try config.validated()
    }

    /// A segment.bytes below max.message.bytes is accepted (as Kafka does); a batch larger than
    /// a segment is refused with batchTooLarge, and smaller ones are appended.
    @Test func aBatchLargerThanASegmentIsRefusedNotATrap() throws {
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 1024)
        #expect(config.maxMessageBytes > config.segmentBytes)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        let large = makeBatch(count: 1, valueBytes: 2000)
        let error = #expect(throws: StorageError.self) { try log.append(large) }
        #expect(error?.code == .batchTooLarge(sizeBytes: large.count, limitBytes: 1024))
        // Several batches in one append, larger together than a segment, roll batch by batch.
        let batches = (0..<4).flatMap { makeBatch(count: 1, valueBytes: 400, tag: $0) }
        #expect(batches.count > 1024)
        let info = try log.append(batches)
        #expect(info.firstOffset == 0 && info.lastOffset == 3)
        #expect(log.segmentCount > 1)
        #expect(try log.allValues().map(\.1) == (0..<4).map { expectedValue(tag: $0, index: 0, valueBytes: 400) })
    }
}
