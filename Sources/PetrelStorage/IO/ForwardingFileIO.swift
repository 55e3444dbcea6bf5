/// A `FileIO` that forwards every call to `underlying` unless it implements the call itself:
/// wrappers that watch or alter a few calls (tests recording what was written or mapped)
/// write only those.
public protocol ForwardingFileIO: FileIO {
    var underlying: any FileIO { get }
}

extension ForwardingFileIO {
    public func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 { try underlying.open(path, flags: flags, mode: mode) }
    public func close(_ descriptor: Int32) { underlying.close(descriptor) }
    public func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        try underlying.pwritev(descriptor, buffers, at: position, path: path)
    }
    public func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int {
        try underlying.pread(descriptor, into: buffer, at: position, path: path)
    }
    public func fdatasync(_ descriptor: Int32, path: String) throws(StorageError) { try underlying.fdatasync(descriptor, path: path) }
    public func fsync(_ descriptor: Int32, path: String) throws(StorageError) { try underlying.fsync(descriptor, path: path) }
    public func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError) {
        try underlying.ftruncate(descriptor, length: length, path: path)
    }
    public func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64 { try underlying.fileSize(descriptor, path: path) }
    public func rename(_ from: String, to: String) throws(StorageError) { try underlying.rename(from, to: to) }
    public func unlink(_ path: String) throws(StorageError) { try underlying.unlink(path) }
    public func mkdir(_ path: String) throws(StorageError) { try underlying.mkdir(path) }
    public func rmdir(_ path: String) throws(StorageError) { try underlying.rmdir(path) }
    public func exists(_ path: String) -> Bool { underlying.exists(path) }
    public func listDirectory(_ path: String) throws(StorageError) -> [String] { try underlying.listDirectory(path) }
    public func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        try underlying.mmap(descriptor, length: length, writable: writable, path: path)
    }
    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) { underlying.munmap(address, length: length) }
    public func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError) {
        try underlying.msync(address, length: length, path: path)
    }
    public func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice) { underlying.advise(address, length: length, advice) }
    public func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool {
        try underlying.tryLockExclusive(descriptor, path: path)
    }
    public func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) {
        try underlying.allocate(descriptor, offset: offset, length: length, path: path)
    }
    public func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus {
        try underlying.fileStatus(path, followingSymlink: followingSymlink)
    }
}
