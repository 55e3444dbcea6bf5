import PetrelStorage

/// The per-topic config overrides, kept across restarts in `topic-configs` in the data
/// directory: one `<topic> <name>=<value>` line each (topic names hold no spaces), written
/// atomically (temporary file, fsync, rename, directory fsync) on every change. A file that
/// cannot be parsed is refused at start-up: opening logs with the wrong retention could delete
/// data.
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

    func write(_ topics: [String: [String: String]]) throws(StorageError) {
        var text = "version=1\n"
        for (topic, configs) in topics.sorted(by: { $0.key < $1.key }) {
            for (name, value) in configs.sorted(by: { $0.key < $1.key }) where !value.contains("\n") {
                text += "\(topic) \(name)=\(value)\n"
            }
        }
        try io.writeFileAtomically(path, bytes: Array(text.utf8))
    }
}
