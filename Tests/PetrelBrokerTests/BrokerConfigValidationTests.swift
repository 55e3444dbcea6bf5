@testable import PetrelBroker
import PetrelStorage
import Testing

/// Bad settings are refused when read, naming the setting and its range; none traps later.
@Suite struct BrokerConfigValidationTests {
    static let refused: [(String, String)] = [
        ("log.segment.bytes=12", "log.segment.bytes"),
        ("message.max.bytes=-1", "message.max.bytes"),
        ("log.index.size.max.bytes=8", "log.index.size.max.bytes"),
        ("num.partitions=-1", "num.partitions"),
        ("num.partitions=0", "num.partitions"),
        ("num.partitions=99999999999", "num.partitions"),
        ("socket.request.max.bytes=-1", "socket.request.max.bytes"),
        ("node.id=4294967296", "node.id"),
        ("log.roll.hours=9223372036854775807", "log.roll.hours"),
        ("log.retention.hours=99999999999", "log.retention.hours"),
        ("auto.create.topics.enable=yes", "auto.create.topics.enable"),
        ("listeners=127.0.0.1:70000", "listeners"),
        ("fetch.max.bytes=10", "fetch.max.bytes"),
    ]

    @Test(arguments: refused)
    func aBadValueIsAnErrorNamingTheSetting(line: String, setting: String) {
        var config = BrokerConfig()
        let error = #expect(throws: BrokerConfig.ConfigError.self) { _ = try config.apply(properties: line + "\n") }
        #expect(error?.message.hasPrefix(setting + "=") == true, "\(error?.message ?? "no error")")
    }

    @Test func aLargeMessageSizeGrowsTheAppendQueueInsteadOfTrapping() throws {
        var config = BrokerConfig()
        _ = try config.apply(properties: "message.max.bytes=100000000\n")
        #expect(config.log.appendQueueBytesMax >= 100_000_000)
        _ = try config.validated()
    }

    @Test func combinationsAreCheckedAtStart() throws {
        var config = BrokerConfig()
        _ = try config.apply(properties: "message.max.bytes=2000000\nsocket.request.max.bytes=1000000\n")
        let error = #expect(throws: BrokerConfig.ConfigError.self) { _ = try config.validated() }
        #expect(error?.message.contains("message.max.bytes") == true)
        var partitions = BrokerConfig()
        _ = try partitions.apply(properties: "num.partitions=5000\n")
        #expect(throws: BrokerConfig.ConfigError.self) { _ = try partitions.validated() }
    }

    @Test func kafkaRangesAreAccepted() throws {
        var config = BrokerConfig()
        _ = try config.apply(properties: "log.segment.bytes=512\nlog.retention.hours=-1\nqueued.max.request.bytes=-1\n")
        #expect(config.log.segmentBytes == 512)
        #expect(config.log.retentionMs == -1, "-1 means unbounded and is not scaled by the hour")
        #expect(config.queuedRequestBytesMax == Int.max)
    }

    /// With few descriptors (ulimit -n 1024), partitions and connections are bounded to what
    /// fits, so that running out of descriptors is a refused request, not a crash (the fuzz test
    /// killed the broker that way: 6,670 partitions at 3 descriptors each).
    @Test func partitionAndConnectionBoundsFitTheDescriptorLimit() throws {
        let (fitted, lowered) = try BrokerConfig().validated().fitted(toDescriptors: 1024)
        #expect(fitted.brokerPartitionsMax * 3 + fitted.connectionsMax + BrokerConfig.descriptorsReserved <= 1024)
        #expect(lowered.count == 2)
        let (roomy, none) = BrokerConfig().fitted(toDescriptors: 1 << 20)
        #expect(none.isEmpty && roomy.brokerPartitionsMax == BrokerConfig().brokerPartitionsMax)
    }
}
