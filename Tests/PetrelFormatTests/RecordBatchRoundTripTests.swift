import PetrelFormat
import Testing

@Suite struct RecordBatchRoundTripTests {
    @Test(arguments: CompressionCodec.allCases)
    func recordsRoundTripThroughEveryCodec(codec: CompressionCodec) throws {
        let records = sampleRecords(count: 200)
        let bytes = try buildBatch(records, compression: codec)
        let decoded = try decodeBatch(bytes)
        #expect(decoded == records)
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.compressionCodec == codec)
            #expect(batch.recordsCount == 200)
            #expect(batch.lastOffsetDelta == 199)
            #expect(batch.sizeBytes == bytes.count)
            #expect(batch.crc == batch.computedCRC)
            #expect(batch.baseTimestamp == records[0].timestamp)
            #expect(batch.maxTimestamp == records.map(\.timestamp).max())
        }
    }

    @Test func nullsStayDistinctFromEmpty() throws {
        let records = [
            DecodedRecord(offset: 0, timestamp: 5, key: nil, value: nil),
            DecodedRecord(offset: 1, timestamp: 5, key: [], value: []),
            DecodedRecord(offset: 2, timestamp: 5, key: [], value: nil, headers: [DecodedHeader(key: "h", value: nil)]),
            DecodedRecord(offset: 3, timestamp: 5, key: nil, value: [], headers: [DecodedHeader(key: "h", value: [])]),
        ]
        #expect(try decodeBatch(try buildBatch(records)) == records)
    }

    @Test func headerFieldsRoundTrip() throws {
        let bytes = try buildBatch(sampleRecords(count: 3)) { builder in
            builder.baseOffset = 1234
            builder.partitionLeaderEpoch = 7
            builder.producerId = 99
            builder.producerEpoch = 3
            builder.baseSequence = 41
            builder.isTransactional = true
        }
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.baseOffset == 1234)
            #expect(batch.partitionLeaderEpoch == 7)
            #expect(batch.magic == 2)
            #expect(batch.producerId == 99)
            #expect(batch.producerEpoch == 3)
            #expect(batch.baseSequence == 41)
            #expect(batch.lastSequence == 43)
            #expect(batch.isTransactional)
            #expect(!batch.isControl)
            #expect(batch.lastOffset == 1236)
            #expect(batch.nextOffset == 1237)
            #expect(try batch.decodeRecords().map(\.offset) == [1234, 1235, 1236])
        }
    }

    @Test func lastSequenceWrapsLikeKafka() throws {
        let bytes = try buildBatch(sampleRecords(count: 4)) { builder in
            builder.producerId = 1
            builder.producerEpoch = 0
            builder.baseSequence = Int32.max - 1
        }
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.lastSequence == 1)
        }
    }

    @Test func logAppendTimeGivesEveryRecordTheBatchTime() throws {
        let bytes = try buildBatch(sampleRecords(count: 5)) { builder in
            builder.timestampType = .logAppendTime
            builder.logAppendTime = 42_000
        }
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.timestampType == .logAppendTime)
            #expect(batch.maxTimestamp == 42_000)
            #expect(try batch.decodeRecords().allSatisfy { $0.timestamp == 42_000 })
        }
    }

    @Test func deleteHorizonIsTheBaseTimestamp() throws {
        var builder = RecordBatchBuilder(deleteHorizonMs: 9_000)
        builder.append(key: [1], value: nil, timestamp: 10_000)
        builder.append(key: [2], value: [3], timestamp: 8_000)
        let bytes = try builder.build()
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.hasDeleteHorizon)
            #expect(batch.baseTimestamp == 9_000)
            #expect(try batch.decodeRecords().map(\.timestamp) == [10_000, 8_000])
        }
    }

    @Test func offsetGapsLeftByCompactionDecode() throws {
        var builder = RecordBatchBuilder()
        builder.append(key: [1], value: [1], timestamp: 1, offsetDelta: 0)
        builder.append(key: [2], value: [2], timestamp: 2, offsetDelta: 5)
        builder.append(key: [3], value: [3], timestamp: 3, offsetDelta: 9)
        builder.baseOffset = 100
        let bytes = try builder.build()
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.recordsCount == 3)
            #expect(batch.lastOffsetDelta == 9)
            #expect(try batch.decodeRecords().map(\.offset) == [100, 105, 109])
        }
    }

    @Test(arguments: [ControlRecordType.commit, .abort])
    func controlBatchHoldsOneMarker(type: ControlRecordType) throws {
        let marker = EndTransactionMarker(type: type, coordinatorEpoch: 17)
        let bytes = marker.batch(producerId: 5, producerEpoch: 2, timestamp: 1_000, baseOffset: 50)
        #expect(bytes.count == 78)  // Kafka's marker batch: 61-byte header + 17-byte record
        try bytes.withUnsafeBytes { buffer in
            let batch = try RecordBatch(parsing: buffer)
            #expect(batch.isControl && batch.isTransactional)
            #expect(batch.baseSequence == -1)
            var iterator = try batch.makeRecordIterator()
            let record = try #require(try iterator.next())
            #expect(try EndTransactionMarker(record: record) == marker)
            #expect(try iterator.next() == nil)
        }
    }

    @Test func readerWalksConcatenatedBatchesAndStopsAtDamage() throws {
        var log: [UInt8] = []
        var ends: [Int] = []
        for index in 0..<5 {
            log += try buildBatch(sampleRecords(count: 3, seed: UInt64(index))) { $0.baseOffset = Int64(index * 3) }
            ends.append(log.count)
        }
        log[ends[2] + 30] ^= 0x01  // inside the fourth batch's CRC-covered bytes
        try log.withUnsafeBytes { buffer in
            var reader = RecordBatchReader(buffer)
            var offsets: [Int64] = []
            do {
                while let batch = try reader.next() { offsets.append(batch.baseOffset) }
                Issue.record("the damaged batch was accepted")
            } catch let error as FormatError {
                guard case .crcMismatch = error.reason else { throw error }
                #expect(error.position == ends[2] + RecordBatchLayout.crcPosition)
                #expect(error.baseOffset == 9)
            }
            #expect(offsets == [0, 3, 6])
            #expect(reader.position == ends[2])
        }
    }

    @Test func varintBoundariesRoundTrip() throws {
        // Lengths around each varint size boundary (1–3 bytes) and timestamps needing long varlongs.
        let lengths = [0, 1, 63, 64, 127, 128, 8191, 8192, 16_383, 16_384, 70_000]
        let records = lengths.enumerated().map { index, length in
            DecodedRecord(offset: Int64(index), timestamp: index.isMultiple(of: 2) ? Int64.max / 2 : -Int64.max / 2,
                          key: [UInt8](repeating: 1, count: length), value: [UInt8](repeating: 2, count: length))
        }
        #expect(try decodeBatch(try buildBatch(records)) == records)
    }
}
