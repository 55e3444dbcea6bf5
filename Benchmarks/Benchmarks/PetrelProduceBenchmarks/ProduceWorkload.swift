import Foundation
import PetrelBroker
import PetrelFormat
import PetrelProtocol

/// The broker and the Produce frames the benchmarks hand it.
enum ProduceWorkload {
    static let topic = "bench"

    /// A broker on a fresh directory whose auto-created topics have as many partitions as the
    /// widest shape.
    static func broker() -> Broker {
        let directory = NSTemporaryDirectory() + "petrel-produce-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        var config = BrokerConfig()
        config.dataDirectory = directory
        config.numPartitions = 64
        return try! Broker(config: config)
    }

    /// A Produce v9 request (acks=1) of one batch of `recordsPerPartition` 100-byte records for
    /// each of `partitions` partitions, framed once.
    static func frame(partitions: Int, recordsPerPartition: Int) -> FrameBytes {
        var builder = RecordBatchBuilder()
        for index in 0..<recordsPerPartition {
            builder.append(key: nil, value: Array(String(repeating: "v", count: 100).utf8), timestamp: 1_700_000_000_000 + Int64(index))
        }
        let batch = try! builder.build()
        let request = ProduceRequest(acks: 1, timeoutMs: 30_000, topicData: [
            .init(name: topic, partitionData: (0..<partitions).map { .init(index: Int32($0), records: .bytes(batch[...])) }),
        ])
        var writer = ProtocolWriter()
        try! RequestHeader(apiKey: ApiKey.produce.rawValue, apiVersion: 9, correlationId: 1, clientId: "bench").write(to: &writer)
        try! request.write(version: 9, to: &writer)
        return FrameBytes(copying: writer.bytes)
    }
}
