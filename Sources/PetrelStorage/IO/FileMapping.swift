/// A shared memory mapping of (a prefix of) a file, unmapped when the last reference goes.
///
/// Readers hold a reference while they use bytes from it, so a segment deleted or evicted from
/// a cache meanwhile stays readable: unlinking a mapped file does not invalidate the mapping.
final class FileMapping: @unchecked Sendable {
    // Safe: `base` and `length` never change after init; the bytes are written only beyond what
    // has been published to readers (see Segment), and unmapping happens in deinit, when no
    // reference — hence no reader — remains.
    let base: UnsafeMutableRawPointer
    let length: Int
    private let io: any FileIO

    init(descriptor: Int32, length: Int, writable: Bool, path: String, io: any FileIO) throws(StorageError) {
        self.base = try io.mmap(descriptor, length: length, writable: writable, path: path)
        self.length = length
        self.io = io
    }

    deinit { io.munmap(base, length: length) }

    func bytes(from start: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(start >= 0 && count >= 0 && start + count <= length, "read outside the mapping")
        return UnsafeRawBufferPointer(start: base + start, count: count)
    }
}
