extension BrokerStateFiles {
    /// The broker settings changed at run time (AlterConfigs on a broker resource), kept in the
    /// data directory and applied again at every start.
    public static let brokerConfigsName = "broker-configs"

    /// Dynamic broker settings: the cluster-wide defaults (a resource named "") and this node's
    /// own (its id), which win over the defaults.
    public struct DynamicBrokerConfigs: Sendable, Equatable {
        public var clusterDefault: [String: String]
        public var node: [String: String]

        public init(clusterDefault: [String: String] = [:], node: [String: String] = [:]) {
            self.clusterDefault = clusterDefault
            self.node = node
        }
    }

    /// The `broker-configs` file: `version=1`, then `default <key>=<value>` and
    /// `node <key>=<value>` lines. Keys hold no space or `=`; values hold no newline.
    public static func brokerConfigs(parsing bytes: [UInt8], path: String) throws(StorageError) -> DynamicBrokerConfigs {
        var configs = DynamicBrokerConfigs()
        for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func corrupt(_ reason: String) -> StorageError { StorageError(.corrupt(reason: "line \(index + 1): \(reason)"), path: path) }
            if index == 0 {
                guard line == "version=1" else { throw corrupt("expected 'version=1'") }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, let equals = fields[1].firstIndex(of: "="), equals != fields[1].startIndex else {
                throw corrupt("expected 'default <key>=<value>' or 'node <key>=<value>'")
            }
            let key = String(fields[1][..<equals]), value = String(fields[1][fields[1].index(after: equals)...])
            switch fields[0] {
            case "default": configs.clusterDefault[key] = value
            case "node": configs.node[key] = value
            default: throw corrupt("expected 'default <key>=<value>' or 'node <key>=<value>'")
            }
        }
        return configs
    }

    public static func encode(brokerConfigs configs: DynamicBrokerConfigs) -> [UInt8] {
        var text = "version=1\n"
        for (scope, settings) in [("default", configs.clusterDefault), ("node", configs.node)] {
            for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
                precondition(!value.contains("\n") && !key.contains(" ") && !key.contains("="), "broker config \(key) was validated before it was stored")
                text += "\(scope) \(key)=\(value)\n"
            }
        }
        return Array(text.utf8)
    }
}
