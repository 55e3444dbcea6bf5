import Foundation
public import PetrelCoordinator
public import PetrelStorage

/// The broker's settings, named after Kafka's server properties. Defaults give a single node
/// on 127.0.0.1:9092 with its data in `./petrel-data`.
///
/// Every setting is checked when it is read, with Kafka's ranges: a bad value is a
/// `ConfigError` naming the setting and its allowed range, never a trap later on.
public struct BrokerConfig: Sendable {
    /// `log.dirs` (one directory for now).
    public var dataDirectory = "./petrel-data"
    /// `listeners`: where to accept connections.
    public var host = "127.0.0.1"
    public var port = 9092
    /// `advertised.listeners`: what Metadata tells clients (defaults to the listener).
    public var advertisedHost: String?
    public var advertisedPort: Int?
    public var nodeId: Int32 = 1
    /// `num.partitions`: partitions of an auto-created topic.
    public var numPartitions: Int32 = 1
    /// `auto.create.topics.enable`.
    public var autoCreateTopics = true
    /// `socket.request.max.bytes`: larger frames close the connection.
    public var requestBytesMax = 100 << 20
    /// `queued.max.request.bytes`: request bytes read but not yet answered, across all
    /// connections; reading pauses beyond it. Kafka's default is unbounded; ours is not.
    public var queuedRequestBytesMax = 512 << 20
    /// `fetch.max.bytes`: record bytes in one fetch response (Kafka's default, 55 MiB).
    public var fetchBytesMax = 57_671_680
    /// The longest a fetch may wait for data, whatever its `max_wait_ms` asks (a parked fetch
    /// holds its connection's queue; clients ask for 500 ms by default).
    public var fetchWaitMsMax: Int64 = 30_000
    /// `max.connections`, `max.connections.per.ip`: connections beyond are closed at once.
    /// Kafka leaves them unbounded; ours stays below what the file-descriptor limit allows.
    public var connectionsMax = 10_000
    public var connectionsPerIpMax = Int(Int32.max)
    /// `connections.max.idle.ms`: a connection with no traffic this long is closed.
    public var connectionsIdleMsMax: Int64 = 600_000
    /// `max.broker.partitions` (KIP-578's name): partitions this broker holds at most. Each
    /// costs descriptors and mappings; Kafka has no such bound and runs out of them instead.
    public var brokerPartitionsMax = 4_000
    /// `petrel.max.partitions.per.request`: partitions one CreateTopics or CreatePartitions
    /// request (or one auto-creation) may add.
    public var requestPartitionsMax = 1_000
    /// `petrel.storage.threads` (Kafka's `num.io.threads` plays the part): the threads of the
    /// storage executor, where every blocking storage call of a request runs. fsync-bound
    /// work waits on the disk, not the CPU, so there are more of them than cores.
    public var storageThreads = 8
    /// `petrel.storage.queued.jobs.max`: storage calls waiting for a thread; callers beyond
    /// it suspend until one leaves the queue.
    public var storageQueuedJobsMax = 1_024
    /// `log.retention.check.interval.ms`.
    public var retentionCheckIntervalMs: Int64 = 300_000
    /// `producer.id.expiration.check.interval.ms` is not read: expiry runs with retention.
    /// Segment, index, flush and message-size settings of every log (`log.segment.bytes`,
    /// `message.max.bytes`, `log.flush.interval.messages`, `log.flush.interval.ms`, …).
    public var log = LogConfig()
    /// The group coordinator's settings (`offsets.topic.num.partitions`,
    /// `group.initial.rebalance.delay.ms`, `group.min.session.timeout.ms`,
    /// `group.max.session.timeout.ms`, `group.max.size`, `offset.metadata.max.bytes`,
    /// `offsets.retention.minutes`), with Kafka's defaults.
    public var groups = GroupCoordinatorConfig()
    /// The log cleaner's settings (`log.cleaner.enable`, `log.cleaner.threads`,
    /// `log.cleaner.dedupe.buffer.size`, `log.cleaner.io.buffer.size`,
    /// `log.cleaner.io.max.bytes.per.second`, `log.cleaner.backoff.ms`).
    public var cleaner = LogCleanerConfig()
    /// The settings given (in a properties file or on the command line), by their Kafka name:
    /// DescribeConfigs reports them as STATIC_BROKER_CONFIG, the others as DEFAULT_CONFIG.
    public var givenSettings: Set<String> = []

    public init() {}

    /// Applies Kafka-style properties (`key=value` lines, `#` comments). Unknown keys are
    /// returned, so the caller can warn about them.
    /// - Throws: `ConfigError` naming the first bad setting.
    public mutating func apply(properties text: String) throws(ConfigError) -> [String] {
        var unknown: [String] = []
        var flushMessages: Int64?, flushMs: Int64?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let setting = Setting(key: line[..<equals].trimmingCharacters(in: .whitespaces),
                                  value: line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            givenSettings.insert(Self.canonicalName[setting.key] ?? setting.key)
            switch setting.key {
            case "log.dirs", "log.dir":
                dataDirectory = String(setting.value.split(separator: ",").first ?? "")
                guard !dataDirectory.isEmpty else { throw setting.error("must name a directory") }
            case "listeners": (host, port) = try Self.listener(setting)
            case "advertised.listeners": (advertisedHost, advertisedPort) = try Self.listener(setting)
            case "node.id", "broker.id": nodeId = try setting.int32(in: 0...Int64(Int32.max))
            case "num.partitions": numPartitions = try setting.int32(in: 1...Int64(Int32.max))
            case "auto.create.topics.enable": autoCreateTopics = try setting.bool()
            case "socket.request.max.bytes": requestBytesMax = try setting.int(in: 1...Int64(Int32.max))
            case "queued.max.request.bytes":
                // Kafka's -1 means unbounded; here it means "as large as a frame may be".
                let value = try setting.int(in: -1...Int64(Int.max))
                queuedRequestBytesMax = value == -1 ? Int.max : value
            case "fetch.max.bytes": fetchBytesMax = try setting.int(in: 1024...Int64(Int32.max))
            case "max.connections": connectionsMax = try setting.int(in: 0...Int64(Int32.max))
            case "max.connections.per.ip": connectionsPerIpMax = try setting.int(in: 0...Int64(Int32.max))
            case "connections.max.idle.ms": connectionsIdleMsMax = try setting.int64(in: 1...Int64.max)
            case "max.broker.partitions": brokerPartitionsMax = try setting.int(in: 1...Int64(Int32.max))
            case "petrel.max.partitions.per.request": requestPartitionsMax = try setting.int(in: 1...Int64(Int32.max))
            case "petrel.storage.threads": storageThreads = try setting.int(in: 1...1_024)
            case "petrel.storage.queued.jobs.max": storageQueuedJobsMax = try setting.int(in: 1...1_000_000)
            case "log.segment.bytes": log.segmentBytes = try setting.int(in: LogConfig.segmentBytesRange)
            case "log.index.size.max.bytes": log.segmentIndexBytes = try setting.int(in: LogConfig.segmentIndexBytesRange)
            case "log.index.interval.bytes": log.indexIntervalBytes = try setting.int(in: 0...Int64(Int32.max))
            case "log.roll.ms": log.segmentMs = try setting.int64(in: 1...Int64.max)
            case "log.roll.hours": log.segmentMs = try setting.int64(in: 1...Int64(Int32.max), times: 3_600_000)
            case "message.max.bytes": log.maxMessageBytes = try setting.int(in: LogConfig.maxMessageBytesRange)
            case "log.retention.ms": log.retentionMs = try setting.int64(in: -1...Int64.max)
            case "log.retention.minutes": log.retentionMs = try setting.int64(in: -1...Int64(Int32.max), times: 60_000)
            case "log.retention.hours": log.retentionMs = try setting.int64(in: -1...Int64(Int32.max), times: 3_600_000)
            case "log.retention.bytes": log.retentionBytes = try setting.int64(in: -1...Int64.max)
            case "log.retention.check.interval.ms": retentionCheckIntervalMs = try setting.int64(in: 1...Int64.max)
            case "log.flush.interval.messages": flushMessages = try setting.int64(in: 1...Int64.max)
            case "log.flush.interval.ms": flushMs = try setting.int64(in: 0...Int64.max)
            case "offsets.topic.num.partitions": groups.offsetsTopicPartitions = try setting.int32(in: 1...Int64(Int32.max))
            case "group.initial.rebalance.delay.ms": groups.initialRebalanceDelayMs = try setting.int32(in: 0...Int64(Int32.max))
            case "group.min.session.timeout.ms": groups.minSessionTimeoutMs = try setting.int32(in: 0...Int64(Int32.max))
            case "group.max.session.timeout.ms": groups.maxSessionTimeoutMs = try setting.int32(in: 0...Int64(Int32.max))
            case "group.max.size": groups.maxGroupSize = try setting.int(in: 1...Int64(Int32.max))
            case "offset.metadata.max.bytes": groups.offsetMetadataMaxBytes = try setting.int(in: 0...Int64(Int32.max))
            case "offsets.retention.minutes": groups.offsetsRetentionMs = try setting.int64(in: 1...Int64(Int32.max), times: 60_000)
            case "offsets.retention.check.interval.ms": groups.offsetsRetentionCheckIntervalMs = try setting.int64(in: 1...Int64.max)
            case "log.cleanup.policy":
                guard let policy = CleanupPolicy(kafkaName: setting.value) else { throw setting.error("must be delete, compact, compact,delete or empty") }
                log.cleanupPolicy = policy
            case "log.cleaner.min.cleanable.ratio": log.minCleanableDirtyRatio = try setting.double(in: 0...1)
            case "log.cleaner.min.compaction.lag.ms": log.minCompactionLagMs = try setting.int64(in: 0...Int64.max)
            case "log.cleaner.max.compaction.lag.ms": log.maxCompactionLagMs = try setting.int64(in: 1...Int64.max)
            case "log.cleaner.delete.retention.ms": log.deleteRetentionMs = try setting.int64(in: 0...Int64.max)
            case "log.cleaner.enable": cleaner.enabled = try setting.bool()
            case "log.cleaner.threads": cleaner.threads = try setting.int(in: 1...64)
            case "log.cleaner.dedupe.buffer.size": cleaner.dedupeBufferBytes = try setting.int(in: 1 << 20...Int64(Int.max))
            case "log.cleaner.io.buffer.size": cleaner.ioBufferBytes = try setting.int(in: 8192...Int64(Int32.max))
            case "log.cleaner.io.max.bytes.per.second":
                let rate = try setting.double(in: 1...Double.greatestFiniteMagnitude)
                cleaner.ioMaxBytesPerSecond = rate >= Double.greatestFiniteMagnitude ? nil : rate
            case "log.cleaner.backoff.ms": cleaner.backoffMs = try setting.int64(in: 0...Int64.max)
            default:
                unknown.append(setting.key)
                givenSettings.remove(setting.key)
            }
        }
        if flushMessages == 1 { log.flushPolicy = .beforeAcknowledge }
        else if flushMessages != nil || flushMs != nil {
            log.flushPolicy = .interval(messages: flushMessages ?? .max, milliseconds: flushMs ?? .max)
        }
        // The append queue must hold the largest batch (and a few of them).
        log.appendQueueBytesMax = max(LogConfig().appendQueueBytesMax, log.maxMessageBytes * 2)
        return unknown
    }

    /// Synonyms and the unit variants of a setting, under the name DescribeConfigs shows.
    static let canonicalName: [String: String] = [
        "log.dir": "log.dirs", "broker.id": "node.id", "log.roll.hours": "log.roll.ms",
        "log.retention.minutes": "log.retention.ms", "log.retention.hours": "log.retention.ms",
    ]

    /// Checks what no single setting shows: combinations. Called by the broker at start.
    public func validated() throws(ConfigError) -> BrokerConfig {
        guard (1...65535).contains(port) || port == 0 else { throw ConfigError(message: "listeners: port \(port) must be in [0, 65535]") }
        if let advertisedPort, !(1...65535).contains(advertisedPort) {
            throw ConfigError(message: "advertised.listeners: port \(advertisedPort) must be in [1, 65535]")
        }
        guard numPartitions >= 1 else { throw ConfigError(message: "num.partitions=\(numPartitions) must be at least 1") }
        guard Int(numPartitions) <= requestPartitionsMax else {
            throw ConfigError(message: "num.partitions=\(numPartitions) exceeds petrel.max.partitions.per.request=\(requestPartitionsMax)")
        }
        do throws(StorageError) { _ = try log.validated() } catch { throw ConfigError(message: "\(error)") }
        do throws(StorageError) { _ = try cleaner.validated() } catch { throw ConfigError(message: "\(error)") }
        guard groups.minSessionTimeoutMs <= groups.maxSessionTimeoutMs else {
            throw ConfigError(message: "group.min.session.timeout.ms=\(groups.minSessionTimeoutMs) exceeds group.max.session.timeout.ms=\(groups.maxSessionTimeoutMs)")
        }
        guard log.maxMessageBytes <= requestBytesMax else {
            throw ConfigError(message: "message.max.bytes=\(log.maxMessageBytes) exceeds socket.request.max.bytes=\(requestBytesMax): no such batch could arrive")
        }
        return self
    }

    /// Descriptors kept for everything but partitions and connections (sealed segments being
    /// read, checkpoints, the lock, the runtime's own).
    static let descriptorsReserved = 256

    /// The bounds on partitions (three descriptors each: the active segment and its two
    /// indexes) and connections (one each) lowered, when needed, to fit `descriptorsMax` (the
    /// process's RLIMIT_NOFILE): half of what is left for each. Returns what was lowered, for
    /// the log, so that running out of descriptors is a refused request, never a crash.
    public func fitted(toDescriptors descriptorsMax: Int) -> (config: BrokerConfig, lowered: [String]) {
        var fitted = self
        var lowered: [String] = []
        let available = max(2, descriptorsMax - Self.descriptorsReserved)
        let partitions = max(1, available / 2 / 3), connections = max(1, available / 2)
        if brokerPartitionsMax > partitions {
            fitted.brokerPartitionsMax = partitions
            lowered.append("max.broker.partitions \(brokerPartitionsMax) → \(partitions)")
        }
        if connectionsMax > connections {
            fitted.connectionsMax = connections
            lowered.append("max.connections \(connectionsMax) → \(connections)")
        }
        return (fitted, lowered)
    }

    /// `PLAINTEXT://host:port` or `host:port`.
    static func listener(_ setting: Setting) throws(ConfigError) -> (String, Int) {
        let first = setting.value.split(separator: ",").first.map(String.init) ?? setting.value
        let address = first.components(separatedBy: "://").last ?? first
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw setting.error("is not host:port with a port in [0, 65535]")
        }
        let host = String(address[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// One `key=value` line, read with the setting's allowed range.
    struct Setting {
        let key: String
        let value: String

        func error(_ problem: String) -> ConfigError { ConfigError(message: "\(key)=\(value) \(problem)") }

        func int64(in range: ClosedRange<Int64>, times unit: Int64 = 1) throws(ConfigError) -> Int64 {
            guard let number = Int64(value) else { throw error("is not a whole number") }
            guard range.contains(number) else { throw error("is out of range: must be in [\(range.lowerBound), \(range.upperBound)]") }
            guard number >= 0 || unit == 1 else { return number }  // -1 ("unbounded") is not scaled
            let (scaled, overflow) = number.multipliedReportingOverflow(by: unit)
            guard !overflow else { throw error("is too large") }
            return scaled
        }

        func int32(in range: ClosedRange<Int64>) throws(ConfigError) -> Int32 {
            precondition(range.upperBound <= Int64(Int32.max) && range.lowerBound >= Int64(Int32.min), "an Int32 setting's range fits Int32")
            return Int32(try int64(in: range))
        }

        func int(in range: ClosedRange<Int64>) throws(ConfigError) -> Int { Int(try int64(in: range)) }

        /// A decimal number (Kafka's double settings); Kafka's `1.7976931348623157E308`
        /// (Double.MAX_VALUE, "no bound") reads as the largest finite double.
        func double(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
            guard let number = Double(value), number.isFinite else { throw error("is not a number") }
            guard range.contains(number) else { throw error("is out of range: must be in [\(range.lowerBound), \(range.upperBound)]") }
            return number
        }

        func bool() throws(ConfigError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw error("must be true or false")
            }
        }
    }

    public struct ConfigError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
