import Synchronization
@testable import PetrelStorage

/// A `FileIO` that forwards to `SystemFileIO` and records every path opened and every path
/// mapped, so a test can say which files an operation read (segments are read through
/// mappings; an open alone may be for a size).
final class RecordingFileIO: FileIO {
    private let underlying = SystemFileIO()
    private let opened = Mutex<[String]>([])
    private let mapped = Mutex<[String]>([])

    /// Paths opened, in order.
    var openedPaths: [String] { opened.withLock { $0 } }
    /// Paths mapped, in order.
    var mappedPaths: [String] { mapped.withLock { $0 } }

    func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        opened.withLock { $0.append(path) }
        return try underlying.open(path, flags: flags, mode: mode)
    }

    func close(_ descriptor: Int32) { underlying.close(descriptor) }
    func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        try underlying.pwritev(descriptor, buffers, at: position, path: path)
    }
    func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int {
        try underlying.pread(descriptor, into: buffer, at: position, path: path)
    }
    func fdatasync(_ descriptor: Int32, path: String) throws(StorageError) { try underlying.fdatasync(descriptor, path: path) }
    func fsync(_ descriptor: Int32, path: String) throws(StorageError) { try underlying.fsync(descriptor, path: path) }
    func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError) {
        try underlying.ftruncate(descriptor, length: length, path: path)
    }
    func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64 { try underlying.fileSize(descriptor, path: path) }
    func rename(_ from: String, to: String) throws(StorageError) { try underlying.rename(from, to: to) }
    func unlink(_ path: String) throws(StorageError) { try underlying.unlink(path) }
    func mkdir(_ path: String) throws(StorageError) { try underlying.mkdir(path) }
    func rmdir(_ path: String) throws(StorageError) { try underlying.rmdir(path) }
    func exists(_ path: String) -> Bool { underlying.exists(path) }
    func listDirectory(_ path: String) throws(StorageError) -> [String] { try underlying.listDirectory(path) }
    func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        mapped.withLock { $0.append(path) }
        return try underlying.mmap(descriptor, length: length, writable: writable, path: path)
    }
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) { underlying.munmap(address, length: length) }
    func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError) {
        try underlying.msync(address, length: length, path: path)
    }
    func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice) { underlying.advise(address, length: length, advice) }
    func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool {
        try underlying.tryLockExclusive(descriptor, path: path)
    }
    func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) {
        try underlying.allocate(descriptor, offset: offset, length: length, path: path)
    }
    func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus {
        try underlying.fileStatus(path, followingSymlink: followingSymlink)
    }
}
