import PetrelStorage

/// Name rules fsck shares with its command line.
public enum PetrelRepairNames {
    /// Whether `name` is a partition directory's name (`<topic>-<partition>`).
    public static func isPartitionDirectoryName(_ name: String) -> Bool { TopicPartition(directoryName: name) != nil }
}
