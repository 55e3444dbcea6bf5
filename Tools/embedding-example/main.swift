// A runnable example of embedding PetrelStorage as a broker's storage backend: the steps of the
// "Embedding Petrel" guide, on a temporary data directory. `swift run petrel-embedding-example`.
import Foundation
import PetrelFormat
import PetrelStorage

let dataDirectory = NSTemporaryDirectory() + "petrel-embedding-example-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: dataDirectory) }

var config = LogConfig()
config.flushPolicy = .beforeAcknowledge
let partition = TopicPartition(topic: "orders", partition: 0)

do {
    let manager = try LogManager(dataDirectory: dataDirectory, defaultConfig: config)
    manager.startBackgroundTasks()
    let log = try manager.logCreatingIfMissing(for: partition)

    // Append three batches, as three produce requests would bring them.
    for order in 1...3 {
        var builder = RecordBatchBuilder(compression: .lz4)
        builder.append(key: Array("order-\(order)".utf8), value: Array("{\"amount\": \(order * 10)}".utf8),
                       headers: [("source", Array("example".utf8))], timestamp: 1_700_000_000_000 + Int64(order))
        let info = try log.append(try builder.build())
        print("appended order \(order) at offset \(info.firstOffset)")
    }

    // Read the batches back without copying them, then decode their records.
    try log.read(fromOffset: 0, maxBytes: 1 << 20) { slice in
        print("read \(slice.bytes.count) bytes from segment \(slice.segmentBaseOffset) at byte \(slice.filePosition)")
        var batches = RecordBatchReader(slice.bytes)
        while let batch = try batches.next() {
            for record in try batch.decodeRecords() {
                print("  offset \(record.offset): \(String(decoding: record.key ?? [], as: UTF8.self)) = \(String(decoding: record.value ?? [], as: UTF8.self))")
            }
        }
    }
    if let found = try log.offset(forTimestamp: 1_700_000_000_002) { print("first record at or after the timestamp: offset \(found.offset)") }
    try manager.close()

    // Reopen: a clean shutdown means no scan.
    let reopened = try LogManager(dataDirectory: dataDirectory, defaultConfig: config)
    print("reopened cleanly: \(reopened.hadCleanShutdown); log end offset \(reopened.log(for: partition)!.logEndOffset)")
    try reopened.close()
} catch {
    print("error: \(error)")
    exit(1)
}
