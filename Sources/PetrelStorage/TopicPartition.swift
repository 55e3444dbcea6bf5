/// A topic name and partition number; its log lives in the directory `<topic>-<partition>`.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        precondition(partition >= 0, "partition numbers are never negative")
        self.topic = topic
        self.partition = partition
    }

    /// Parses a partition directory name (`orders-3`); nil for anything else.
    public init?(directoryName name: String) {
        guard let dash = name.lastIndex(of: "-"), dash != name.startIndex,
              let partition = Int32(name[name.index(after: dash)...]), partition >= 0,
              String(partition) == name[name.index(after: dash)...] else { return nil }
        let topic = String(name[..<dash])
        guard Self.isValidTopicName(topic) else { return nil }
        self.init(topic: topic, partition: partition)
    }

    public var directoryName: String { "\(topic)-\(partition)" }
    public var description: String { directoryName }

    /// Kafka's rule: 1–249 characters of ASCII letters, digits, '.', '_' and '-', not "." or "..".
    public static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 249, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
        }
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}
