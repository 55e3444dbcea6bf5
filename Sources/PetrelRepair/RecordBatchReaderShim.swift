import PetrelFormat

/// The offset after the last valid batch of a buffer of batches.
struct RecordBatchReaderShim {
    var reader: RecordBatchReader

    init(_ bytes: UnsafeRawBufferPointer) { reader = RecordBatchReader(bytes, limits: DecodeLimits(batchBytesMax: Int(Int32.max))) }

    mutating func lastNextOffset() -> Int64? {
        var next: Int64?
        while let batch = try? reader.next() { next = batch.nextOffset }
        return next
    }
}
