import Synchronization

/// A `FileIO` that forwards to another and injects faults on command: failed writes (ENOSPC,
/// EIO), short writes, and failed fsyncs. For tests of what the engine does when the disk says no.
public final class FaultInjectingFileIO: FileIO {
    /// What to break.
    public enum Fault: Sendable, Equatable {
        /// Every pwritev fails with this errno until cleared.
        case failWrites(errno: Int32)
        /// Every pwritev writes at most this many bytes.
        case shortWrites(bytesMax: Int)
        /// Every fdatasync/fsync/msync fails with this errno until cleared.
        case failSyncs(errno: Int32)
        /// Every ftruncate fails with this errno until cleared.
        case failTruncates(errno: Int32)
        /// mkdir of a path ending in `pathSuffix` fails with this errno until cleared.
        case failMkdir(pathSuffix: String, errno: Int32)
    }

    private let underlying: any FileIO
    private let faults = Mutex<[Fault]>([])
    /// Counts of calls that reached the underlying file system, by name.
    private let counts = Mutex<[String: Int]>([:])

    public init(_ underlying: any FileIO = SystemFileIO()) { self.underlying = underlying }

    public func inject(_ fault: Fault) { faults.withLock { $0.append(fault) } }
    public func clearFaults() { faults.withLock { $0.removeAll() } }
    public func callCount(_ name: String) -> Int { counts.withLock { $0[name, default: 0] } }

    private func count(_ name: String) { counts.withLock { $0[name, default: 0] += 1 } }
    private var activeFaults: [Fault] { faults.withLock { $0 } }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        try underlying.open(path, flags: flags, mode: mode)
    }
    public func close(_ descriptor: Int32) { underlying.close(descriptor) }

    public func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        var buffers = buffers
        for fault in activeFaults {
            switch fault {
            case let .failWrites(errno):
                throw StorageError(.systemCall(name: "pwritev", errno: errno), path: path, position: position)
            case let .shortWrites(bytesMax):
                var kept: [UnsafeRawBufferPointer] = []
                var budget = bytesMax
                for buffer in buffers where budget > 0 {
                    let take = min(budget, buffer.count)
                    kept.append(UnsafeRawBufferPointer(rebasing: buffer[..<take]))
                    budget -= take
                }
                buffers = kept
            default: continue
            }
        }
        count("pwritev")
        return try underlying.pwritev(descriptor, buffers, at: position, path: path)
    }

    public func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int {
        try underlying.pread(descriptor, into: buffer, at: position, path: path)
    }

    private func checkSync(_ name: String, path: String) throws(StorageError) {
        for case let .failSyncs(errno) in activeFaults {
            throw StorageError(.systemCall(name: name, errno: errno), path: path)
        }
        count(name)
    }

    public func fdatasync(_ descriptor: Int32, path: String) throws(StorageError) {
        try checkSync("fdatasync", path: path)
        try underlying.fdatasync(descriptor, path: path)
    }

    public func fsync(_ descriptor: Int32, path: String) throws(StorageError) {
        try checkSync("fsync", path: path)
        try underlying.fsync(descriptor, path: path)
    }

    public func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError) {
        for case let .failTruncates(errno) in activeFaults {
            throw StorageError(.systemCall(name: "ftruncate", errno: errno), path: path, position: length)
        }
        try underlying.ftruncate(descriptor, length: length, path: path)
    }

    public func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64 { try underlying.fileSize(descriptor, path: path) }
    public func rename(_ from: String, to: String) throws(StorageError) { try underlying.rename(from, to: to) }
    public func unlink(_ path: String) throws(StorageError) { try underlying.unlink(path) }
    public func mkdir(_ path: String) throws(StorageError) {
        for case let .failMkdir(suffix, errno) in activeFaults where path.hasSuffix(suffix) {
            throw StorageError(.systemCall(name: "mkdir", errno: errno), path: path)
        }
        try underlying.mkdir(path)
    }
    public func rmdir(_ path: String) throws(StorageError) { try underlying.rmdir(path) }
    public func exists(_ path: String) -> Bool { underlying.exists(path) }
    public func listDirectory(_ path: String) throws(StorageError) -> [String] { try underlying.listDirectory(path) }

    public func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        try underlying.mmap(descriptor, length: length, writable: writable, path: path)
    }
    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) { underlying.munmap(address, length: length) }

    public func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError) {
        try checkSync("msync", path: path)
        try underlying.msync(address, length: length, path: path)
    }

    public func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool {
        try underlying.tryLockExclusive(descriptor, path: path)
    }

    public func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice) {
        underlying.advise(address, length: length, advice)
    }
}
