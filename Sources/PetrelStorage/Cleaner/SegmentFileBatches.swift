internal import PetrelFormat

/// Reads a sealed segment's batches in order through one reusable buffer (`pread`), not
/// through its mapping: the cleaner reads whole logs, and pages of a mapping it touched would
/// count in the process's resident memory until evicted, while a buffer's stay its size.
/// The buffer grows only for a batch larger than it (up to the segment's size).
struct SegmentFileBatches: ~Copyable {
    private let descriptor: Int32
    private let path: String
    private let io: any FileIO
    private let fileBytes: Int
    private var buffer: UnsafeMutableRawBufferPointer
    /// File position of `buffer[0]`.
    private var bufferStart = 0
    private var bufferCount = 0
    /// File position of the next batch.
    private(set) var position = 0

    /// Whether each batch's CRC32C is checked (the pass that rewrites batches checks them; the
    /// map's pass need not read them twice).
    private let verifyingCRC: Bool

    init(descriptor: Int32, path: String, fileBytes: Int, io: any FileIO, bufferBytes: Int, verifyingCRC: Bool = true) {
        self.verifyingCRC = verifyingCRC
        self.descriptor = descriptor
        self.path = path
        self.fileBytes = fileBytes
        self.io = io
        buffer = .allocate(byteCount: max(bufferBytes, RecordBatchLayout.headerBytes), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next batch (valid only inside it) and its file position; false at
    /// the end of the file.
    /// - Throws: `.corrupt` (with the file position) at bytes that are not a valid batch: the
    ///   cleaner never rewrites what it cannot read.
    mutating func next(_ body: (RecordBatch, Int) throws(StorageError) -> Void) throws(StorageError) -> Bool {
        guard position < fileBytes else { return false }
        try ensure(RecordBatchLayout.logOverheadBytes)
        let lengthAt = position - bufferStart + RecordBatchLayout.lengthPosition
        let length = Int32(bigEndian: UnsafeRawPointer(buffer.baseAddress! + lengthAt).loadUnaligned(as: Int32.self))
        let size = Int(length) + RecordBatchLayout.logOverheadBytes
        guard length >= 0, size >= RecordBatchLayout.headerBytes, position + size <= fileBytes else {
            throw StorageError(.corrupt(reason: "batch length \(length) runs past the end of the segment (\(fileBytes) bytes)"),
                               path: path, position: Int64(position))
        }
        try ensure(size)
        let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[(position - bufferStart)..<(position - bufferStart + size)])
        let batch: RecordBatch
        do throws(FormatError) {
            batch = try RecordBatch(parsing: bytes, limits: DecodeLimits(batchBytesMax: Int(Int32.max)), verifyingCRC: verifyingCRC)
        } catch {
            throw StorageError(.corrupt(reason: error.description), path: path, position: Int64(position))
        }
        let at = position
        position += size
        try body(batch, at)
        return true
    }

    /// Makes `count` bytes from `position` available in the buffer.
    private mutating func ensure(_ count: Int) throws(StorageError) {
        if position >= bufferStart && position + count <= bufferStart + bufferCount { return }
        if count > buffer.count {
            buffer.deallocate()
            buffer = .allocate(byteCount: count, alignment: 16)
        }
        let wanted = min(buffer.count, fileBytes - position)
        guard wanted >= count else {
            throw StorageError(.corrupt(reason: "segment ends inside a batch"), path: path, position: Int64(position))
        }
        try io.preadAll(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<wanted]), at: Int64(position), path: path)
        bufferStart = position
        bufferCount = wanted
    }
}
