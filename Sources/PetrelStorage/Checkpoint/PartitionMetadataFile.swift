/// Kafka's `partition.metadata`: `version: 0` and `topic_id: <id>`, the topic id (KIP-516) in
/// Kafka's text form (16 bytes, URL-safe base64 without padding). Written before any data.
public struct PartitionMetadataFile: Sendable {
    public let path: String
    let io: any FileIO

    public init(directory: String, io: any FileIO = SystemFileIO()) {
        path = "\(directory)/\(PartitionFiles.partitionMetadata)"
        self.io = io
    }

    public func write(topicId: [UInt8]) throws(StorageError) {
        precondition(topicId.count == 16, "a topic id is 16 bytes")
        try io.writeFileAtomically(path, bytes: Array("version: 0\ntopic_id: \(Self.encode(topicId))\n".utf8))
    }

    /// The topic id, or nil when the file does not exist.
    public func read() throws(StorageError) -> [UInt8]? {
        guard io.exists(path) else { return nil }
        let text = String(decoding: try io.readSmallFile(path, bytesMax: 4096), as: UTF8.self)
        let lines = text.split(separator: "\n").map { $0.trimmingPrefix(" ") }
        guard lines.count >= 2, lines[0] == "version: 0", lines[1].hasPrefix("topic_id: "),
              let id = Self.decode(String(lines[1].dropFirst("topic_id: ".count))) else {
            throw StorageError(.corrupt(reason: "expected 'version: 0' and 'topic_id: <id>'"), path: path)
        }
        return id
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// A 16-byte id (topic id, cluster id) in Kafka's text form: URL-safe base64, no padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0...chunk.count { output.append(alphabet[(value >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var bits = 0, bitCount = 0
        var bytes: [UInt8] = []
        for character in text.utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            bits = bits << 6 | value
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                bytes.append(UInt8((bits >> bitCount) & 0xFF))
            }
        }
        return bytes.count == 16 ? bytes : nil
    }
}
