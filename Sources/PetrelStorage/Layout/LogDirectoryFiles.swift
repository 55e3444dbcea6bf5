/// Names of what a log directory holds beside its partition directories, and of the files a
/// partition directory holds beside its segments: one spelling, shared by the engine (which
/// writes them), fsck (which knows them from strays) and the tools.
public enum LogDirectoryFiles {
    public static let recoveryPointCheckpoint = "recovery-point-offset-checkpoint"
    public static let logStartOffsetCheckpoint = "log-start-offset-checkpoint"
    /// Kafka's compaction progress; its presence for a partition means the topic is compacted.
    public static let cleanerOffsetCheckpoint = "cleaner-offset-checkpoint"
    /// Kafka's high watermarks (written by Kafka's replica manager; Petrel leaves it alone).
    public static let replicationOffsetCheckpoint = "replication-offset-checkpoint"
    /// Written after every log is closed: its presence at start-up means indexes and
    /// checkpoints can be trusted without a scan. Kafka's name, so either reads the other's.
    public static let cleanShutdownMarker = ".kafka_cleanshutdown"
    /// Held (flock) by the process that owns the directory.
    public static let lock = ".lock"

    /// Where `petrel fsck --repair` moves what it takes out of a log directory, by default (a
    /// directory beside the partitions, which neither the engine nor fsck takes for one).
    public static let fsckQuarantineDirectory = "petrel-quarantine"

    /// The files in `OffsetCheckpointFile`'s format.
    public static let offsetCheckpoints = [recoveryPointCheckpoint, logStartOffsetCheckpoint, cleanerOffsetCheckpoint,
                                           replicationOffsetCheckpoint]

    /// What `LogManager.deleteLog` renames a partition directory to before removing its files
    /// (`<topic>-<partition>.delete`): not a partition name, so a crash half-way leaves a
    /// directory start-up ignores.
    public static let deletingPartitionSuffix = ".delete"

    /// Suffixes of partition directories that are not live partitions: `-delete` (Kafka's name
    /// for a deleted topic's partition awaiting removal), `-future` and `-stray` (Kafka's), and
    /// Petrel's `deletingPartitionSuffix`.
    public static let inactivePartitionDirectorySuffixes = ["-delete", "-future", "-stray", deletingPartitionSuffix]

    /// Whether `name`, a directory, is a partition directory that is not live.
    public static func isInactivePartitionDirectory(_ name: String) -> Bool {
        inactivePartitionDirectorySuffixes.contains { name.hasSuffix($0) }
    }
}

/// Names of a partition directory's files that are not segments.
public enum PartitionFiles {
    public static let leaderEpochCheckpoint = "leader-epoch-checkpoint"
    public static let partitionMetadata = "partition.metadata"
}
