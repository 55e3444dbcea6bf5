import PetrelStorage

/// The broker settings that may change at run time (AlterConfigs and IncrementalAlterConfigs on a
/// broker resource), as Kafka's `DynamicBrokerConfig` allows: the topics' log defaults and the
/// cleaner's throttle and back-off, applied to open logs at once; and, kept and shown but without
/// effect, the listeners' SASL and TLS settings (Petrel has no SASL or TLS listener yet) and
/// Kafka's thread-pool sizes (Petrel sizes its own pools, `petrel.storage.threads`): none of them
/// changes anything a client relies on. Any other setting is refused with INVALID_CONFIG naming
/// it, never accepted and ignored.
enum DynamicBrokerSettings {
    /// Applied when altered. (Flush settings are left out: `log.flush.interval.messages` and
    /// `.ms` make one policy together, which a change of one alone would not keep.)
    static let applied: Set<String> = [
        "log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.roll.ms", "log.index.interval.bytes",
        "log.index.size.max.bytes", "message.max.bytes", "log.cleanup.policy", "log.cleaner.min.cleanable.ratio",
        "log.cleaner.delete.retention.ms", "log.cleaner.min.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms",
        "log.cleaner.io.max.bytes.per.second", "log.cleaner.backoff.ms",
    ]

    static let threadPools: Set<String> = ["background.threads", "num.io.threads", "num.network.threads", "num.replica.fetchers",
                                           "num.recovery.threads.per.data.dir"]

    static func isKeptWithoutEffect(_ name: String) -> Bool {
        name.hasPrefix("sasl.") || name.hasPrefix("ssl.") || name.hasPrefix("listener.name.") || threadPools.contains(name)
    }

    /// The broker's settings with `dynamic` over the static ones (a node's own over the cluster
    /// defaults), checked by the same parser and ranges as the properties file.
    static func effective(_ base: BrokerConfig, _ dynamic: BrokerStateFiles.DynamicBrokerConfigs) throws(BrokerConfig.ConfigError) -> BrokerConfig {
        var config = base
        let settings = dynamic.clusterDefault.merging(dynamic.node) { $1 }.filter { applied.contains($0.key) }
        _ = try config.apply(properties: settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
        config.givenSettings = base.givenSettings  // the static ones stay the ones given at start-up
        return try config.validated()
    }

    /// Refuses a setting that cannot change at run time; `value` is checked with the rest by
    /// `effective`.
    static func check(_ name: String) throws(TopicRegistry.TopicChangeError) {
        guard applied.contains(name) || isKeptWithoutEffect(name) else {
            throw TopicRegistry.TopicChangeError(code: .invalidConfig, message: "\(name) cannot be changed at run time (set it in the properties file and restart)")
        }
        guard !name.contains(" ") && !name.contains("=") else {
            throw TopicRegistry.TopicChangeError(code: .invalidConfig, message: "\(name) is not a setting name")
        }
    }
}

/// The broker's settings as they are now: the static ones with the dynamic ones over them, and
/// the changes of those, stored durably and applied to the topics' logs and the cleaner.
final class BrokerSettings: Sendable {
    let staticConfig: BrokerConfig
    private let store: any MetadataStore
    private let state: Locked<(dynamic: BrokerStateFiles.DynamicBrokerConfigs, effective: BrokerConfig)>
    private let alterations = Locked<Void>(())

    init(staticConfig: BrokerConfig, store: any MetadataStore) throws(BrokerConfig.ConfigError) {
        self.staticConfig = staticConfig
        self.store = store
        let dynamic = store.brokerConfigs()
        state = Locked((dynamic, try DynamicBrokerSettings.effective(staticConfig, dynamic)))
    }

    var effective: BrokerConfig { state.withLock { $0.effective } }
    var dynamic: BrokerStateFiles.DynamicBrokerConfigs { state.withLock { $0.dynamic } }

    /// Replaces the dynamic settings of a broker resource: `name` "" is the cluster default, the
    /// node's id its own. `change` gets the current settings of that scope.
    func alter(resourceName name: String, validateOnly: Bool, topics: TopicRegistry, cleaner: LogCleaner?,
               change: ([String: String]) throws(TopicRegistry.TopicChangeError) -> [String: String]) throws(TopicRegistry.TopicChangeError) {
        let isDefault = name.isEmpty
        guard isDefault || name == String(staticConfig.nodeId) else {
            throw TopicRegistry.TopicChangeError(code: .invalidRequest, message: "unexpected broker id: this is broker \(staticConfig.nodeId), the request names \(name)")
        }
        // One alteration at a time; `change` runs outside `state`'s lock, since it may describe
        // the settings (IncrementalAlterConfigs' APPEND reads the current value).
        try alterations.withLock { (_) throws(TopicRegistry.TopicChangeError) in
            var dynamic = self.dynamic
            let changed = try change(isDefault ? dynamic.clusterDefault : dynamic.node)
            for key in changed.keys { try DynamicBrokerSettings.check(key) }
            if isDefault { dynamic.clusterDefault = changed } else { dynamic.node = changed }
            let effective: BrokerConfig
            do throws(BrokerConfig.ConfigError) { effective = try DynamicBrokerSettings.effective(staticConfig, dynamic) } catch {
                throw TopicRegistry.TopicChangeError(code: .invalidConfig, message: error.message)
            }
            guard !validateOnly, dynamic != self.dynamic else { return }
            do throws(StorageError) { try store.put(brokerConfigs: dynamic) } catch {
                throw TopicRegistry.TopicChangeError(code: .kafkaStorageError, message: "\(error)")
            }
            state.withLock { $0 = (dynamic, effective) }
            try topics.replaceLogDefaults(effective.log)
            cleaner?.update(ioMaxBytesPerSecond: effective.cleaner.ioMaxBytesPerSecond, backoffMs: effective.cleaner.backoffMs)
        }
    }
}
