import PetrelStorage

/// The per-topic config overrides as brokers before the `topics` file kept them, in
/// `topic-configs`: one `<topic> <name>=<value>` line each (topic names hold no spaces). Read
/// only, once, when `LocalMetadataStore` adopts such a directory. A file that cannot be parsed is
/// refused at start-up: opening logs with the wrong retention could delete data.
struct TopicConfigFile: Sendable {
    let path: String
    let io: any FileIO

    init(directory: String, io: any FileIO) {
        path = "\(directory)/\(BrokerStateFiles.topicConfigsName)"
        self.io = io
    }

    func read() throws(StorageError) -> [String: [String: String]] {
        guard io.exists(path) else { return [:] }
        let text = String(decoding: try io.readSmallFile(path), as: UTF8.self)
        var topics: [String: [String: String]] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if number == 0 {
                guard line == "version=1" else { throw StorageError(.corrupt(reason: "expected 'version=1' on line 1"), path: path) }
                continue
            }
            if line.isEmpty { continue }
            guard let space = line.firstIndex(of: " "), let equals = line[space...].firstIndex(of: "="),
                  TopicPartition.isValidTopicName(String(line[..<space])) else {
                throw StorageError(.corrupt(reason: "line \(number + 1) is not '<topic> <name>=<value>'"), path: path)
            }
            topics[String(line[..<space]), default: [:]][String(line[line.index(after: space)..<equals])] = String(line[line.index(after: equals)...])
        }
        return topics
    }
}
