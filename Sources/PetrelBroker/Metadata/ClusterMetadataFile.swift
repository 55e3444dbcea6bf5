import PetrelStorage

/// `meta.properties` as Kafka writes it: the cluster id survives restarts. A missing file means
/// a new data directory; one that cannot be read or parsed is refused, not replaced, since a
/// new cluster id would make this a different cluster to every client and replica.
enum ClusterMetadataFile {
    static func loadOrCreateClusterId(directory: String, nodeId: Int32, io: any FileIO) throws(StorageError) -> String {
        let path = "\(directory)/\(BrokerStateFiles.clusterMetadataName)"
        if io.exists(path) {
            return try BrokerStateFiles.clusterId(parsing: io.readSmallFile(path, bytesMax: 64 << 10), path: path)
        }
        var generator = SystemRandomNumberGenerator()
        let id = PartitionMetadataFile.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try io.writeFileAtomically(path, bytes: Array("version=1\ncluster.id=\(id)\nnode.id=\(nodeId)\n".utf8))
        return id
    }
}
