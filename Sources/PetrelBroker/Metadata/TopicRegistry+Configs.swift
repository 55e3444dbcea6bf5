import PetrelProtocol
import PetrelStorage

extension TopicRegistry {
    /// Replaces a topic's config overrides (AlterConfigs, IncrementalAlterConfigs): checked with
    /// the same names and ranges as at creation (INVALID_CONFIG naming the setting), stored
    /// durably, then applied to the topic's open logs without a restart. With `validateOnly`,
    /// only checked.
    func replaceConfigs(of name: String, with overrides: [String: String], validateOnly: Bool) throws(TopicChangeError) {
        try topicChanges.withLock { (_) throws(TopicChangeError) in
            guard let info = info(name), var record = record(name) else {
                throw TopicChangeError(code: .unknownTopicOrPartition, message: "no topic \(name)")
            }
            let logConfig: LogConfig
            do throws(TopicConfigs.Invalid) { logConfig = try TopicConfigs.logConfig(overrides, base: logDefaults) } catch {
                throw TopicChangeError(code: .invalidConfig, message: error.message)
            }
            guard !validateOnly, record.configs != overrides else { return }
            record.configs = overrides
            do throws(StorageError) {
                try store.put(record)
                for partition in 0..<info.partitions {
                    try manager.log(for: TopicPartition(topic: name, partition: partition))?.updateConfig(logConfig)
                }
            } catch {
                throw TopicChangeError(code: .kafkaStorageError, message: "\(error)")
            }
            // A lower dirty ratio or a shorter lag may make a log cleanable now.
            manager.cleaner?.wakeUp()
            logger.info("topic \(name) configs are now \(overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))")
        }
    }
}

extension TopicRegistry {
    /// New log defaults (a broker setting altered at run time): every topic's logs take their
    /// overrides over them, at once.
    func replaceLogDefaults(_ defaults: LogConfig) throws(TopicChangeError) {
        try topicChanges.withLock { (_) throws(TopicChangeError) in
            logDefaultsValue.withLock { $0 = defaults }
            for name in names {
                guard let info = info(name) else { continue }
                let config = logConfig(of: name)
                for partition in 0..<info.partitions {
                    do throws(StorageError) { try manager.log(for: TopicPartition(topic: name, partition: partition))?.updateConfig(config) } catch {
                        throw TopicChangeError(code: .invalidConfig, message: "\(name)-\(partition): \(error)")
                    }
                }
            }
            manager.cleaner?.wakeUp()
        }
    }
}

/// IncrementalAlterConfigs' operations on one resource's overrides (Kafka's `OpType`).
enum ConfigOperation: Int8 {
    case set = 0
    case delete = 1
    case append = 2
    case subtract = 3

    /// Settings whose value is a comma-separated list, the only ones APPEND and SUBTRACT apply to.
    static let listSettings: Set<String> = ["cleanup.policy", "log.cleanup.policy", "leader.replication.throttled.replicas",
                                            "follower.replication.throttled.replicas"]

    /// `overrides` after this operation on `name`; `current` is the setting's effective value
    /// (an override or the default), which APPEND and SUBTRACT start from.
    func apply(to overrides: inout [String: String], name: String, value: String?, current: String?) throws(TopicRegistry.TopicChangeError) {
        func invalid(_ message: String) -> TopicRegistry.TopicChangeError { TopicRegistry.TopicChangeError(code: .invalidConfig, message: message) }
        switch self {
        case .set:
            guard let value else { throw invalid("\(name): SET needs a value") }
            overrides[name] = value
        case .delete:
            overrides.removeValue(forKey: name)
        case .append, .subtract:
            guard Self.listSettings.contains(name) else { throw invalid("\(name) is not a list: APPEND and SUBTRACT apply to lists only") }
            guard let value else { throw invalid("\(name): \(self == .append ? "APPEND" : "SUBTRACT") needs a value") }
            var items = (overrides[name] ?? current ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
            let given = value.split(separator: ",").map(String.init)
            if self == .append {
                for item in given where !items.contains(item) { items.append(item) }
            } else {
                items.removeAll { given.contains($0) }
            }
            overrides[name] = items.joined(separator: ",")
        }
    }
}
