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
