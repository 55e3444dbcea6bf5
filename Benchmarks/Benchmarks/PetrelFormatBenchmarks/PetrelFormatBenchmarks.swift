import Benchmark
import Foundation
import PetrelFormat

/// Figures the record-format issue sets goals for: CRC32C speed on 1 MiB, batch build and
/// decode in records per second for 100 B and 1 KiB records per codec, allocations per record,
/// and LZ4 decompression of a records section for comparison with `lz4 -b1`.
///
/// Batch benchmarks process one batch of `Workload.recordsPerBatch` records per iteration with
/// a `.kilo` scaling factor, so `--scale` output reads per record.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    let mebibyte = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    Benchmark("CRC32C 1 MiB") { benchmark in
        mebibyte.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations { blackHole(CRC32C.checksum(bytes)) }
        }
    }

    // Physical baseline for the figures above and below: copying 1 MiB (memory bandwidth).
    Benchmark("memcpy 1 MiB (baseline)") { benchmark in
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { destination.deallocate() }
        benchmark.startMeasurement()
        mebibyte.withUnsafeBytes { from in
            for _ in benchmark.scaledIterations {
                destination.baseAddress!.copyMemory(from: from.baseAddress!, byteCount: from.count)
                blackHole(destination[4095])
            }
        }
    }

    let perRecord = Benchmark.Configuration(scalingFactor: .kilo)
    for valueBytes in [100, 1024] {
        let label = valueBytes == 100 ? "100 B" : "1 KiB"
        let records = Workload.records(valueBytes: valueBytes)
        for codec in CompressionCodec.allCases {
            Benchmark("Build \(codec) \(label)", configuration: perRecord) { _ in
                var builder = RecordBatchBuilder(compression: codec)
                for (index, record) in records.enumerated() {
                    builder.append(key: record.key, value: record.value, timestamp: 1_700_000_000_000 + Int64(index))
                }
                blackHole(try builder.build())
            }
            let batch = Workload.batch(valueBytes: valueBytes, codec: codec)
            Benchmark("Decode \(codec) \(label)", configuration: perRecord) { _ in
                try batch.withUnsafeBytes { buffer in
                    let view = try RecordBatch(parsing: buffer)
                    var iterator = try view.makeRecordIterator()
                    var bytes = 0
                    while let record = try iterator.next() {
                        bytes &+= (record.key?.count ?? 0) &+ (record.value?.count ?? 0)
                    }
                    blackHole(bytes)
                }
            }
        }
    }

    // `petrel log read --json` and `petrel dump --json`: records as JSON lines (goal: at least
    // 500,000 records/s, i.e. at most 2 µs a record, for 100 B values).
    let decoded = try! Workload.batch(valueBytes: 100, codec: .none).withUnsafeBytes { try RecordBatch(parsing: $0).decodeRecords() }
    Benchmark("JSON lines 100 B", configuration: perRecord) { _ in
        var output: [UInt8] = []
        output.reserveCapacity(decoded.count * 300)
        for record in decoded {
            record.appendJSON(to: &output)
            output.append(UInt8(ascii: "\n"))
        }
        blackHole(output)
    }

    // LZ4: the records section of a 1 KiB-record batch (about 1 MiB), decompressed alone; the
    // same bytes are written to a file so `lz4 -b1` can be run on exactly this payload.
    var builder = RecordBatchBuilder()
    for (index, record) in Workload.records(valueBytes: 1024).enumerated() {
        builder.append(key: record.key, value: record.value, timestamp: Int64(index))
    }
    let uncompressed = Array(try! builder.build().dropFirst(RecordBatchLayout.headerBytes))
    let payloadPath = ProcessInfo.processInfo.environment["PETREL_LZ4_PAYLOAD"] ?? "/tmp/petrel-lz4-payload.bin"
    FileManager.default.createFile(atPath: payloadPath, contents: Data(uncompressed))
    let compressed = uncompressed.withUnsafeBytes { try! Compression.compress($0, codec: .lz4) }
    Benchmark("LZ4 decompress records section (\(uncompressed.count) B)") { benchmark in
        compressed.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                blackHole(try! Compression.decompress(bytes, codec: .lz4, outputBytesMax: 1 << 22))
            }
        }
    }
}
