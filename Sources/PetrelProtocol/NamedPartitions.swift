/// A topic's name with per-partition entries: the shape most request and response bodies
/// nest (Produce, Fetch and ListOffsets responses).
public struct NamedPartitions<Partition: Sendable & Equatable>: Sendable, Equatable {
    public var name: String
    public var partitions: [Partition]

    public init(name: String, partitions: [Partition]) {
        self.name = name
        self.partitions = partitions
    }
}
