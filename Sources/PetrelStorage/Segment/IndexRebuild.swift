/// Rebuilds a segment's `.index` and `.timeindex` from its `.log`, as recovery does, for tools
/// that repair log directories (`petrel fsck --repair`). The log file is never modified.
public enum IndexRebuild {
    /// What the rebuild found in the log.
    public struct Result: Sendable, Equatable {
        /// Bytes at the start of the log holding valid batches; the indexes cover exactly these.
        public let validBytes: Int
        public let fileBytes: Int
        /// The offset after the last valid batch.
        public let nextOffset: Int64
    }

    /// Scans the segment's batches (CRC32C and structure, offsets increasing, below
    /// `offsetLimit`) and writes fresh, trimmed, fsynced indexes for the valid prefix.
    public static func rebuild(
        directory: String, baseOffset: Int64, offsetLimit: Int64?, config: LogConfig = LogConfig(), io: any FileIO = SystemFileIO()
    ) throws(StorageError) -> Result {
        let segment = Segment.existing(directory: directory, baseOffset: baseOffset, sizeBytes: 0, nextOffset: baseOffset,
                                       config: try config.validated(), io: io, handleCache: nil)
        let scan = try segment.recover(offsetLimit: offsetLimit)
        try segment.seal()
        try segment.syncSealed()
        return Result(validBytes: scan.validBytes, fileBytes: scan.fileBytes, nextOffset: segment.nextOffset)
    }
}
