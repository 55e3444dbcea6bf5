import PetrelFormat

/// Deterministic records that look like application logs (JSON lines with repeating field names
/// and varying ids), so codecs see realistic ratios rather than random or all-equal bytes.
enum Workload {
    /// Records per batch: the benchmarks' scaling factor, so scaled figures are per record.
    static let recordsPerBatch = 1000

    static func records(valueBytes: Int, count: Int = recordsPerBatch) -> [(key: [UInt8], value: [UInt8])] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let levels = ["INFO", "WARN", "DEBUG", "ERROR"]
        let services = ["checkout", "payments", "search", "inventory", "auth"]
        return (0..<count).map { index in
            let id = next()
            var line = "{\"ts\":\(1_700_000_000_000 + index),\"level\":\"\(levels[Int(id % 4)])\","
            line += "\"service\":\"\(services[Int((id >> 8) % 5)])\",\"user\":\(id % 100_000),\"msg\":\"request "
            var value = Array(line.utf8)
            while value.count < valueBytes - 2 {
                value += Array("handled id=\(next() % 1_000_000) ok; ".utf8)
            }
            value = Array(value.prefix(valueBytes - 2)) + Array("\"}".utf8)
            return (Array("user-\(id % 1000)".utf8), value)
        }
    }

    static func batch(valueBytes: Int, codec: CompressionCodec) -> [UInt8] {
        var builder = RecordBatchBuilder(compression: codec)
        for (index, record) in records(valueBytes: valueBytes).enumerated() {
            builder.append(key: record.key, value: record.value, timestamp: 1_700_000_000_000 + Int64(index))
        }
        return try! builder.build()
    }
}
