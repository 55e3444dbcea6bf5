/// The broker's own small files in the data directory, parsed in one place for the broker and
/// for fsck: `meta.properties` (the cluster id, as Kafka writes it) and `producer-id-block`
/// (the next producer id to reserve). A file that does not parse is an error, never a default:
/// a new cluster id or producer ids restarting at 0 would break promises made to clients.
public enum BrokerStateFiles {
    public static let clusterMetadataName = "meta.properties"
    public static let producerIdBlockName = "producer-id-block"
    public static let topicConfigsName = "topic-configs"

    /// The `cluster.id=` of a `meta.properties`.
    public static func clusterId(parsing bytes: [UInt8], path: String) throws(StorageError) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cluster.id=") }),
              case let id = String(line.dropFirst("cluster.id=".count)), !id.isEmpty,
              id.utf8.allSatisfy({ PartitionMetadataFile.alphabet.contains($0) }) else {
            throw StorageError(.corrupt(reason: "no valid 'cluster.id=' line; refusing to invent a new cluster id"), path: path)
        }
        return id
    }

    /// The `next=` of a `producer-id-block`.
    public static func nextProducerId(parsing bytes: [UInt8], path: String) throws(StorageError) -> Int64 {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("next=") }),
              let next = Int64(line.dropFirst("next=".count)), next >= 0 else {
            throw StorageError(.corrupt(reason: "expected 'next=<producer id>': producer ids would be reused; restore the file or remove it knowingly"), path: path)
        }
        return next
    }
}

extension BrokerStateFiles {
    public static let topicsName = "topics"

    /// A topic as the broker's metadata keeps it (the `topics` file).
    public struct TopicRecord: Sendable, Equatable {
        public enum State: String, Sendable {
            case live
            /// Its deletion began: start-up finishes it.
            case deleting
        }

        public var name: String
        public var topicId: [UInt8]
        public var partitions: Int32
        /// Kept by the broker for itself (`__consumer_offsets`, `__transaction_state`): listed
        /// as internal in Metadata, not produced to by clients.
        public var isInternal: Bool
        public var state: State
        /// Config overrides: set at creation or altered since (dynamic).
        public var configs: [String: String]

        public init(name: String, topicId: [UInt8], partitions: Int32, isInternal: Bool = false, state: State = .live,
                    configs: [String: String] = [:]) {
            self.name = name
            self.topicId = topicId
            self.partitions = partitions
            self.isInternal = isInternal
            self.state = state
            self.configs = configs
        }
    }

    /// The `topics` file: `version=1`, then per topic a line
    /// `topic <name> id=<topic id> partitions=<n> internal=<true|false> state=<live|deleting>`
    /// followed by its `config <name> <key>=<value>` lines; the topic id is in Kafka's text form,
    /// as `partition.metadata` holds it. Topic names and config keys hold no
    /// spaces; values hold no newline.
    public static func topics(parsing bytes: [UInt8], path: String) throws(StorageError) -> [TopicRecord] {
        let text = String(decoding: bytes, as: UTF8.self)
        var records: [TopicRecord] = []
        func corrupt(_ line: Int, _ reason: String) -> StorageError {
            StorageError(.corrupt(reason: "line \(line): \(reason)"), path: path)
        }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if index == 0 {
                guard line == "version=1" else { throw corrupt(number, "expected 'version=1'") }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.split(separator: " ", maxSplits: line.hasPrefix("config ") ? 2 : Int.max, omittingEmptySubsequences: false)
            switch fields.first {
            case "topic":
                var values: [Substring: Substring] = [:]
                for field in fields.dropFirst(2) {
                    guard let equals = field.firstIndex(of: "=") else { throw corrupt(number, "'\(field)' is not key=value") }
                    values[field[..<equals]] = field[field.index(after: equals)...]
                }
                guard fields.count == 6, TopicPartition.isValidTopicName(String(fields[1])),
                      let id = values["id"].flatMap({ PartitionMetadataFile.decode(String($0)) }),
                      let partitions = values["partitions"].flatMap({ Int32($0) }), partitions > 0,
                      let isInternal = values["internal"].flatMap({ Bool(String($0)) }),
                      let state = values["state"].flatMap({ TopicRecord.State(rawValue: String($0)) }) else {
                    throw corrupt(number, "expected 'topic <name> id=<topic id> partitions=<n> internal=<bool> state=<live|deleting>'")
                }
                guard !records.contains(where: { $0.name == fields[1] }) else { throw corrupt(number, "topic \(fields[1]) listed twice") }
                records.append(TopicRecord(name: String(fields[1]), topicId: id, partitions: partitions, isInternal: isInternal, state: state))
            case "config":
                guard fields.count == 3, let last = records.indices.last, fields[1] == records[last].name,
                      let equals = fields[2].firstIndex(of: "="), equals != fields[2].startIndex else {
                    throw corrupt(number, "expected 'config <topic> <key>=<value>' after its topic line")
                }
                records[last].configs[String(fields[2][..<equals])] = String(fields[2][fields[2].index(after: equals)...])
            default:
                throw corrupt(number, "expected a 'topic' or 'config' line")
            }
        }
        return records
    }

    /// The bytes of a `topics` file listing `records` (sorted by name).
    public static func encode(topics records: [TopicRecord]) -> [UInt8] {
        var text = "version=1\n"
        for record in records.sorted(by: { $0.name < $1.name }) {
            text += "topic \(record.name) id=\(PartitionMetadataFile.encode(record.topicId)) partitions=\(record.partitions) internal=\(record.isInternal) state=\(record.state.rawValue)\n"
            for (key, value) in record.configs.sorted(by: { $0.key < $1.key }) {
                precondition(!value.contains("\n") && !key.contains(" ") && !key.contains("="), "config \(key) was validated before it was stored")
                text += "config \(record.name) \(key)=\(value)\n"
            }
        }
        return Array(text.utf8)
    }
}
