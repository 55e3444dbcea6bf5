import PetrelFormat
import Testing

/// Each kind of bad input gives its own typed error, at the right byte.
@Suite struct DecodeErrorTests {
    func reason(_ bytes: [UInt8], limits: DecodeLimits = .default) -> FormatError? {
        do {
            _ = try decodeBatch(bytes, limits: limits)
            return nil
        } catch let error as FormatError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    let valid: [UInt8] = try! buildBatch(sampleRecords(count: 10))

    @Test func truncatedAnywhereIsTruncated() {
        for cut in 0..<valid.count {
            let error = reason(Array(valid[..<cut]))
            guard case .truncated = error?.reason else {
                Issue.record("cut at \(cut): \(String(describing: error))")
                return
            }
        }
    }

    @Test func wrongMagicIsNamed() {
        var bytes = valid
        bytes[RecordBatchLayout.magicPosition] = 1
        #expect(reason(bytes)?.reason == .unsupportedMagic(1))
        #expect(reason(bytes)?.position == RecordBatchLayout.magicPosition)
    }

    @Test func crcMismatchCarriesBothValues() throws {
        var bytes = valid
        bytes[bytes.count - 1] ^= 0x40
        let error = try #require(reason(bytes))
        guard case let .crcMismatch(stored, computed) = error.reason else {
            Issue.record("expected a CRC mismatch, got \(error)")
            return
        }
        #expect(stored != computed)
        #expect(error.position == RecordBatchLayout.crcPosition)
        #expect(error.description.contains("CRC32C mismatch"))
    }

    @Test func negativeAndTinyLengthsAreRejected() {
        for length: Int32 in [-1, 0, 48, Int32.min] {
            var bytes = valid
            bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: length.bigEndian, Array.init))
            #expect(reason(bytes)?.reason == .invalidBatchLength(length))
        }
    }

    @Test func oversizedBatchIsRejectedBeforeReading() {
        var bytes = valid
        bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: Int32.max.bigEndian, Array.init))
        let limits = DecodeLimits(batchBytesMax: 1 << 20)
        #expect(reason(bytes, limits: limits)?.reason == .batchTooLarge(sizeBytes: Int(Int32.max) + 12, limitBytes: 1 << 20))
    }

    @Test func unknownCodecIsNamed() {
        var bytes = valid
        bytes[RecordBatchLayout.attributesPosition + 1] |= 0x07
        fixCRC(&bytes)
        #expect(reason(bytes)?.reason == .unknownCompressionCodec(7))
    }

    @Test func recordsCountBeyondOffsetsIsRejected() {
        var bytes = valid
        bytes.replaceSubrange(57..<61, with: withUnsafeBytes(of: Int32(11).bigEndian, Array.init))
        fixCRC(&bytes)
        #expect(reason(bytes)?.reason == .invalidRecordsCount(recordsCount: 11, lastOffsetDelta: 9))
    }

    @Test func fewerRecordsThanCountedIsAMismatch() {
        var bytes = valid
        bytes.replaceSubrange(57..<61, with: withUnsafeBytes(of: Int32(9).bigEndian, Array.init))
        fixCRC(&bytes)
        guard case .trailingBytes = reason(bytes)?.reason else {
            Issue.record("expected trailing bytes, got \(String(describing: reason(bytes)))")
            return
        }
    }

    @Test func overlongVarintIsMalformed() {
        var builder = RecordBatchBuilder()
        builder.append(key: nil, value: [1], timestamp: 0)
        var bytes = try! builder.build()
        // The record's length varint is the first byte after the header: make it a 6-byte varint.
        bytes.replaceSubrange(61..<62, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: Int32(bytes.count - 12).bigEndian, Array.init))
        fixCRC(&bytes)
        #expect(reason(bytes)?.reason == .malformedVarint)
        #expect(reason(bytes)?.position == 61)
    }

    @Test func decompressedSizeBoundIsEnforced() throws {
        let records = (0..<100).map { DecodedRecord(offset: Int64($0), timestamp: 0, key: nil, value: [UInt8](repeating: 7, count: 10_000)) }
        for codec in CompressionCodec.allCases where codec != .none {
            let bytes = try buildBatch(records, compression: codec)
            #expect(bytes.count < 100_000, "\(codec) should compress repeated bytes")
            let error = reason(bytes, limits: DecodeLimits(decompressedBytesMax: 100_000))
            #expect(error?.reason == .decompressedSizeLimitExceeded(limitBytes: 100_000), "\(codec)")
            #expect(error?.position == RecordBatchLayout.headerBytes)
            #expect(try decodeBatch(bytes).count == 100)
        }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func damagedCompressedDataIsADecompressionError(codec: CompressionCodec) throws {
        var bytes = try buildBatch(sampleRecords(count: 50), compression: codec)
        // Truncate the compressed stream, keep the header consistent.
        bytes.removeLast(5)
        bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: Int32(bytes.count - 12).bigEndian, Array.init))
        fixCRC(&bytes)
        let error = try #require(reason(bytes))
        switch error.reason {
        case .decompressionFailed(let failed, _): #expect(failed == codec)
        default: Issue.record("\(codec): expected a decompression failure, got \(error)")
        }
    }
}
