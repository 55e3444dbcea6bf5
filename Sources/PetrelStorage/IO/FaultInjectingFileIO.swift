import Dispatch
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
        /// Every open of a path ending in `pathSuffix` ("" for all) fails (EMFILE, ENOSPC, …).
        case failOpens(pathSuffix: String, errno: Int32)
        /// Every mmap of a path ending in `pathSuffix` ("" for all) fails (ENOMEM, …).
        case failMappings(pathSuffix: String, errno: Int32)
        /// Every block allocation (`allocate`) fails with this errno: a full disk.
        case failAllocations(errno: Int32)
        /// Every pwritev to a path ending in `pathSuffix` fails with this errno.
        case failWritesTo(pathSuffix: String, errno: Int32)
        /// Every fdatasync/fsync/msync of a path ending in `pathSuffix` fails with this errno.
        case failSyncsOf(pathSuffix: String, errno: Int32)
    }

    private let underlying: any FileIO
    private let faults = Locked<[Fault]>([])
    /// Counts of calls that reached the underlying file system, by name.
    private let counts = Locked<[String: Int]>([:])

    /// Set while the next pwritev is to block (see `parkNextWrite`).
    private let parkArmed = Atomic<Bool>(false)
    private let parked = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)

    public init(_ underlying: any FileIO = SystemFileIO()) { self.underlying = underlying }

    /// Makes the next pwritev block until `releaseParkedWrite()`: appends that arrive meanwhile
    /// queue up behind the parked writer, which makes group commit deterministic to test.
    public func parkNextWrite() { parkArmed.store(true, ordering: .releasing) }
    /// Waits until a write parked by `parkNextWrite()` is blocked.
    public func waitUntilWriteParked() { parked.wait() }
    public func releaseParkedWrite() { released.signal() }

    public func inject(_ fault: Fault) { faults.withLock { $0.append(fault) } }
    public func clearFaults() { faults.withLock { $0.removeAll() } }
    public func callCount(_ name: String) -> Int { counts.withLock { $0[name, default: 0] } }

    private func count(_ name: String) { counts.withLock { $0[name, default: 0] += 1 } }
    private var activeFaults: [Fault] { faults.withLock { $0 } }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        for case let .failOpens(suffix, errno) in activeFaults where path.hasSuffix(suffix) {
            throw StorageError(.systemCall(name: "open", errno: errno), path: path)
        }
        let descriptor = try underlying.open(path, flags: flags, mode: mode)
        count("open")
        return descriptor
    }
    public func close(_ descriptor: Int32) {
        count("close")
        underlying.close(descriptor)
    }

    public func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        if parkArmed.exchange(false, ordering: .acquiringAndReleasing) {
            parked.signal()
            released.wait()
        }
        var buffers = buffers
        for fault in activeFaults {
            switch fault {
            case let .failWrites(errno):
                throw StorageError(.systemCall(name: "pwritev", errno: errno), path: path, position: position)
            case let .failWritesTo(suffix, errno) where path.hasSuffix(suffix):
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
        for fault in activeFaults {
            switch fault {
            case let .failSyncs(errno):
                throw StorageError(.systemCall(name: name, errno: errno), path: path)
            case let .failSyncsOf(suffix, errno) where path.hasSuffix(suffix):
                throw StorageError(.systemCall(name: name, errno: errno), path: path)
            default: continue
            }
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
        for case let .failMappings(suffix, errno) in activeFaults where path.hasSuffix(suffix) {
            throw StorageError(.systemCall(name: "mmap", errno: errno), path: path)
        }
        return try underlying.mmap(descriptor, length: length, writable: writable, path: path)
    }

    public func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) {
        for case let .failAllocations(errno) in activeFaults {
            throw StorageError(.systemCall(name: "posix_fallocate", errno: errno), path: path, position: offset)
        }
        count("allocate")
        try underlying.allocate(descriptor, offset: offset, length: length, path: path)
    }

    public func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus {
        try underlying.fileStatus(path, followingSymlink: followingSymlink)
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
