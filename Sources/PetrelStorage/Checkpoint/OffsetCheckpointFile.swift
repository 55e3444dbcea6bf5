/// Kafka's offset checkpoint text files (`recovery-point-offset-checkpoint`,
/// `log-start-offset-checkpoint`, `cleaner-offset-checkpoint`; names in `LogDirectoryFiles`):
/// a version line `0`, an entry count, then one `<topic> <partition> <offset>` line per
/// partition. Written atomically (temporary file, fsync,
/// rename, directory fsync).
public struct OffsetCheckpointFile: Sendable {
    static let version = 0

    public let path: String
    let io: any FileIO

    public init(path: String, io: any FileIO = SystemFileIO()) {
        self.path = path
        self.io = io
    }

    public func write(_ offsets: [TopicPartition: Int64]) throws(StorageError) {
        var text = "\(Self.version)\n\(offsets.count)\n"
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            text += "\(partition.topic) \(partition.partition) \(offset)\n"
        }
        try io.writeFileAtomically(path, bytes: Array(text.utf8))
    }

    /// The entries, or an empty map when the file does not exist.
    /// - Throws: `.corrupt` with the line concerned when the file is malformed.
    public func read() throws(StorageError) -> [TopicPartition: Int64] {
        guard io.exists(path) else { return [:] }
        let text = String(decoding: try io.readSmallFile(path), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func corrupt(_ why: String, line: Int) -> StorageError {
            StorageError(.corrupt(reason: "\(why) on line \(line)"), path: path)
        }
        guard lines.count >= 2, Int(lines[0]) == Self.version else { throw corrupt("unsupported version", line: 1) }
        guard let count = Int(lines[1]), count >= 0, lines.count >= 2 + count else { throw corrupt("bad entry count", line: 2) }
        var entries: [TopicPartition: Int64] = [:]
        for index in 0..<count {
            let fields = lines[2 + index].split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, TopicPartition.isValidTopicName(String(fields[0])),
                  let partition = Int32(fields[1]), partition >= 0, let offset = Int64(fields[2]) else {
                throw corrupt("malformed entry", line: 3 + index)
            }
            entries[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
        }
        return entries
    }
}
