import PetrelStorage

/// Settings as Kafka names and describes them (DescribeConfigs): a topic's, its overrides
/// (source 1, TOPIC_CONFIG) over the broker's log settings (source 4, STATIC_BROKER_CONFIG,
/// when given at start-up, else 5, DEFAULT_CONFIG), and the broker's own (4 or 5).
struct ConfigDescriptions: Sendable {
    struct Entry: Sendable, Equatable {
        var name: String
        var value: String
        var readOnly = false
        /// Kafka's `ConfigSource` code.
        var source: Int8
        /// Kafka's `ConfigType` code.
        var type: Int8
    }

    let settings: BrokerSettings
    let topics: TopicRegistry
    /// The static settings (start-up), for the broker id and what was given.
    var config: BrokerConfig { settings.staticConfig }
    let advertisedHost: String
    let advertisedPort: Int32

    /// `flush.messages` and `flush.ms` as Kafka shows them (Long.MAX_VALUE for "never").
    static func flushSettings(_ policy: FlushPolicy) -> (messages: String, milliseconds: String) {
        switch policy {
        case .beforeAcknowledge: ("1", String(Int64.max))
        case let .interval(messages, milliseconds): (String(messages), String(milliseconds))
        }
    }

    /// Where a broker setting's value comes from: this node's dynamic setting
    /// (DYNAMIC_BROKER_CONFIG, 2), the cluster's (DYNAMIC_DEFAULT_BROKER_CONFIG, 3), the
    /// properties given at start-up (STATIC_BROKER_CONFIG, 4), or the default (DEFAULT_CONFIG, 5).
    func source(ofBrokerSetting name: String, _ dynamic: BrokerStateFiles.DynamicBrokerConfigs) -> Int8 {
        if dynamic.node[name] != nil { return 2 }
        if dynamic.clusterDefault[name] != nil { return 3 }
        return config.givenSettings.contains(name) ? 4 : 5
    }

    /// A topic's settings, each with where its value comes from: the topic's override
    /// (TOPIC_CONFIG, 1), else the broker setting it defaults to (`source(ofBrokerSetting:)`).
    func topic(_ name: String) -> [Entry] {
        let overrides = topics.overrides(of: name)
        let log = topics.logConfig(of: name)
        let (flushMessages, flushMs) = Self.flushSettings(log.flushPolicy)
        // (topic name, the broker setting it defaults to, effective value, ConfigType)
        let effective: [(String, String, String, Int8)] = [
            ("cleanup.policy", "log.cleanup.policy", log.cleanupPolicy.description, 7),
            ("compression.type", "compression.type", "producer", 2),
            ("delete.retention.ms", "log.cleaner.delete.retention.ms", String(log.deleteRetentionMs), 5),
            ("flush.messages", "log.flush.interval.messages", flushMessages, 5),
            ("flush.ms", "log.flush.interval.ms", flushMs, 5),
            ("index.interval.bytes", "log.index.interval.bytes", String(log.indexIntervalBytes), 3),
            ("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", String(log.maxCompactionLagMs), 5),
            ("max.message.bytes", "message.max.bytes", String(log.maxMessageBytes), 3),
            ("message.timestamp.type", "log.message.timestamp.type", "CreateTime", 2),
            ("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", String(log.minCleanableDirtyRatio), 6),
            ("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", String(log.minCompactionLagMs), 5),
            ("min.insync.replicas", "min.insync.replicas", "1", 3),
            ("retention.bytes", "log.retention.bytes", String(log.retentionBytes), 5),
            ("retention.ms", "log.retention.ms", String(log.retentionMs), 5),
            ("segment.bytes", "log.segment.bytes", String(log.segmentBytes), 3),
            ("segment.index.bytes", "log.index.size.max.bytes", String(log.segmentIndexBytes), 3),
            ("segment.ms", "log.roll.ms", String(log.segmentMs), 5),
        ]
        let dynamic = settings.dynamic
        var entries = effective.map { name, brokerName, value, type in
            let source: Int8 = overrides[name] != nil ? 1 : self.source(ofBrokerSetting: brokerName, dynamic)
            return Entry(name: name, value: overrides[name] ?? value, source: source, type: type)
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) where !effective.contains(where: { $0.0 == name }) {
            entries.append(Entry(name: name, value: value, source: 1, type: 2))
        }
        return entries
    }

    /// Every broker setting, with the values in force now; those `DynamicBrokerSettings`
    /// applies are not read-only. Dynamic settings kept without effect (SASL, TLS) are listed too.
    var broker: [Entry] {
        let running = settings.effective
        let dynamic = settings.dynamic
        let log = running.log
        let (flushMessages, flushMs) = Self.flushSettings(log.flushPolicy)
        let listed: [(String, String, Int8)] = [
            ("advertised.listeners", "PLAINTEXT://\(advertisedHost):\(advertisedPort)", 7),
            ("auto.create.topics.enable", String(running.autoCreateTopics), 1),
            ("broker.id", String(running.nodeId), 3),
            ("connections.max.idle.ms", String(running.connectionsIdleMsMax), 5),
            ("fetch.max.bytes", String(running.fetchBytesMax), 3),
            ("group.initial.rebalance.delay.ms", String(running.groups.initialRebalanceDelayMs), 3),
            ("group.max.session.timeout.ms", String(running.groups.maxSessionTimeoutMs), 3),
            ("group.max.size", String(running.groups.maxGroupSize), 3),
            ("group.min.session.timeout.ms", String(running.groups.minSessionTimeoutMs), 3),
            ("listeners", "PLAINTEXT://\(running.host):\(running.port)", 7),
            ("log.cleaner.backoff.ms", String(running.cleaner.backoffMs), 5),
            ("log.cleaner.dedupe.buffer.size", String(running.cleaner.dedupeBufferBytes), 5),
            ("log.cleaner.delete.retention.ms", String(log.deleteRetentionMs), 5),
            ("log.cleaner.enable", String(running.cleaner.enabled), 1),
            ("log.cleaner.io.buffer.size", String(running.cleaner.ioBufferBytes), 3),
            ("log.cleaner.io.max.bytes.per.second", running.cleaner.ioMaxBytesPerSecond.map { String($0) } ?? String(Double.greatestFiniteMagnitude), 6),
            ("log.cleaner.max.compaction.lag.ms", String(log.maxCompactionLagMs), 5),
            ("log.cleaner.min.cleanable.ratio", String(log.minCleanableDirtyRatio), 6),
            ("log.cleaner.min.compaction.lag.ms", String(log.minCompactionLagMs), 5),
            ("log.cleaner.threads", String(running.cleaner.threads), 3),
            ("log.cleanup.policy", log.cleanupPolicy.description, 7),
            ("log.dirs", running.dataDirectory, 2),
            ("log.flush.interval.messages", flushMessages, 5),
            ("log.flush.interval.ms", flushMs, 5),
            ("log.index.interval.bytes", String(log.indexIntervalBytes), 3),
            ("log.index.size.max.bytes", String(log.segmentIndexBytes), 3),
            ("log.retention.bytes", String(log.retentionBytes), 5),
            ("log.retention.check.interval.ms", String(running.retentionCheckIntervalMs), 5),
            ("log.retention.ms", String(log.retentionMs), 5),
            ("log.roll.ms", String(log.segmentMs), 5),
            ("log.segment.bytes", String(log.segmentBytes), 3),
            ("max.broker.partitions", String(running.brokerPartitionsMax), 3),
            ("max.connections", String(running.connectionsMax), 3),
            ("max.connections.per.ip", String(running.connectionsPerIpMax), 3),
            ("message.max.bytes", String(log.maxMessageBytes), 3),
            ("node.id", String(running.nodeId), 3),
            ("num.partitions", String(running.numPartitions), 3),
            ("offset.metadata.max.bytes", String(running.groups.offsetMetadataMaxBytes), 3),
            ("offsets.retention.check.interval.ms", String(running.groups.offsetsRetentionCheckIntervalMs), 5),
            ("offsets.retention.minutes", String(running.groups.offsetsRetentionMs / 60_000), 3),
            ("offsets.topic.num.partitions", String(running.groups.offsetsTopicPartitions), 3),
            ("petrel.max.partitions.per.request", String(running.requestPartitionsMax), 3),
            ("petrel.storage.queued.jobs.max", String(running.storageQueuedJobsMax), 3),
            ("petrel.storage.threads", String(running.storageThreads), 3),
            ("queued.max.request.bytes", running.queuedRequestBytesMax == Int.max ? "-1" : String(running.queuedRequestBytesMax), 5),
            ("socket.request.max.bytes", String(running.requestBytesMax), 3),
        ]
        var entries = listed.map {
            Entry(name: $0.0, value: $0.1, readOnly: !DynamicBrokerSettings.applied.contains($0.0), source: source(ofBrokerSetting: $0.0, dynamic), type: $0.2)
        }
        let kept = dynamic.clusterDefault.merging(dynamic.node) { $1 }.filter { DynamicBrokerSettings.isKeptWithoutEffect($0.key) }
        for (name, value) in kept.sorted(by: { $0.key < $1.key }) {
            entries.append(Entry(name: name, value: value, source: source(ofBrokerSetting: name, dynamic), type: 2))
        }
        return entries.sorted { $0.name < $1.name }
    }
}
