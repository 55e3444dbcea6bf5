import PetrelFormat
@_exported import PetrelTestSupport

/// Records with every shape the format distinguishes: null and empty keys and values, headers
/// with null and empty values, multi-byte varint lengths, negative and large timestamp deltas.
func sampleRecords(count: Int = 20, seed: UInt64 = 7) -> [DecodedRecord] {
    var rng = SeededGenerator(seed: seed)
    let base: Int64 = 1_700_000_000_000
    return (0..<count).map { index in
        let key: [UInt8]? = switch index % 4 {
        case 0: nil
        case 1: []
        default: Array("key-\(index)".utf8)
        }
        let valueLength = index % 5 == 0 ? 300 : Int.random(in: 0...40, using: &rng)
        let value: [UInt8]? = index % 7 == 3 ? nil : (0..<valueLength).map { UInt8(($0 * 7 + index) % 26) + 97 }
        var headers: [DecodedHeader] = []
        if index % 3 == 0 {
            headers = [DecodedHeader(key: "trace", value: Array("id-\(index)".utf8)),
                       DecodedHeader(key: "null", value: nil),
                       DecodedHeader(key: "", value: [])]
        }
        let timestamp = base + Int64(index % 6 == 5 ? -1000 : index * 1000)
        return DecodedRecord(offset: Int64(index), timestamp: timestamp, key: key, value: value, headers: headers)
    }
}

func buildBatch(_ records: [DecodedRecord], compression: CompressionCodec = .none,
                configure: (inout RecordBatchBuilder) -> Void = { _ in }) throws -> [UInt8] {
    var builder = RecordBatchBuilder(compression: compression)
    configure(&builder)
    for record in records {
        builder.append(key: record.key, value: record.value,
                       headers: record.headers.map { ($0.key, $0.value) }, timestamp: record.timestamp)
    }
    return try builder.build()
}

/// Parses the single batch in `bytes` and copies out its records.
func decodeBatch(_ bytes: [UInt8], limits: DecodeLimits = .default) throws -> [DecodedRecord] {
    try bytes.withUnsafeBytes { buffer in
        let batch = try RecordBatch(parsing: buffer, limits: limits)
        return try batch.decodeRecords(limits: limits)
    }
}

/// Rewrites the CRC so that damage elsewhere reaches the record decoder instead of the CRC check.
func fixCRC(_ bytes: inout [UInt8]) {
    guard bytes.count >= RecordBatchLayout.headerBytes else { return }
    bytes.withUnsafeMutableBytes { buffer in
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[RecordBatchLayout.attributesPosition...]))
        buffer.storeBytes(of: crc.bigEndian, toByteOffset: RecordBatchLayout.crcPosition, as: UInt32.self)
    }
}
