import PetrelBroker
import PetrelStorage
import Testing

@Suite struct BrokerConfigTests {
    @Test func kafkaStylePropertiesApply() throws {
        var config = BrokerConfig()
        let unknown = try config.apply(properties: """
            # a comment
            log.dirs=/var/lib/petrel,/ignored/second
            listeners=PLAINTEXT://0.0.0.0:9093
            advertised.listeners=PLAINTEXT://broker.example:19093
            num.partitions=6
            log.segment.bytes=1048576
            log.retention.hours=2
            log.retention.bytes=1000000
            message.max.bytes=2000000
            auto.create.topics.enable=false
            log.flush.interval.messages=1
            sasl.enabled.mechanisms=PLAIN
            """)
        #expect(unknown == ["sasl.enabled.mechanisms"])
        #expect(config.dataDirectory == "/var/lib/petrel")
        #expect(config.host == "0.0.0.0" && config.port == 9093)
        #expect(config.advertisedHost == "broker.example" && config.advertisedPort == 19093)
        #expect(config.numPartitions == 6)
        #expect(config.log.segmentBytes == 1_048_576)
        #expect(config.log.retentionMs == 7_200_000 && config.log.retentionBytes == 1_000_000)
        #expect(config.log.maxMessageBytes == 2_000_000)
        #expect(!config.autoCreateTopics)
        #expect(config.log.flushPolicy == .beforeAcknowledge)
    }

    @Test func flushSettingsBecomeAnIntervalPolicy() throws {
        var config = BrokerConfig()
        _ = try config.apply(properties: "log.flush.interval.ms=1000\n")
        #expect(config.log.flushPolicy == .interval(messages: .max, milliseconds: 1000))
    }

    @Test func badValuesAreErrorsNamingTheSetting() {
        var config = BrokerConfig()
        let error = #expect(throws: BrokerConfig.ConfigError.self) { try config.apply(properties: "num.partitions=many\n") }
        #expect(error?.message.contains("num.partitions") == true)
        #expect(throws: BrokerConfig.ConfigError.self) { try config.apply(properties: "listeners=no-port\n") }
    }
}
