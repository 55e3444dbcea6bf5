#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Numbers the temporary files of `writeFileAtomically` within this process.
private let temporaryFileCounter = Atomic<UInt64>(0)

/// The only way PetrelStorage touches the file system: every open, write, sync, truncate,
/// rename and mapping goes through one of these calls, so tests can inject short writes, EIO,
/// ENOSPC and failed fsyncs (see `FaultInjectingFileIO`).
///
/// Calls throw `StorageError.Code.systemCall` naming the call and errno, with the path; callers
/// add the byte position and offset they know. `EINTR` is retried here.
public protocol FileIO: Sendable {
    func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32
    func close(_ descriptor: Int32)
    /// Writes some prefix of `buffers` at `position`; returns the bytes written (may be short).
    func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int
    func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int
    func fdatasync(_ descriptor: Int32, path: String) throws(StorageError)
    func fsync(_ descriptor: Int32, path: String) throws(StorageError)
    func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError)
    func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64
    func rename(_ from: String, to: String) throws(StorageError)
    func unlink(_ path: String) throws(StorageError)
    func mkdir(_ path: String) throws(StorageError)
    func rmdir(_ path: String) throws(StorageError)
    func exists(_ path: String) -> Bool
    func listDirectory(_ path: String) throws(StorageError) -> [String]
    func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer
    func munmap(_ address: UnsafeMutableRawPointer, length: Int)
    func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError)
    /// Tells the kernel how a mapping will be read: sequentially (deeper readahead), or that a
    /// range will be needed soon (read it in now, asynchronously). Advice only: never fails.
    func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice)
    /// Takes an exclusive advisory lock (flock) without waiting; false when another holds it.
    func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool
    /// Gives `length` bytes at `offset` real disk blocks (posix_fallocate), growing the file if
    /// needed. A file region written through a writable mapping must be allocated first: a store
    /// to a page with no block behind it, when the disk is full, is a SIGBUS rather than an error.
    /// Throws ENOSPC when the disk has no room.
    func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError)
    /// What `path` is (lstat, or stat with `followingSymlink`): the kind and identity of a
    /// directory entry, so that start-up skips stray files and never opens one directory twice.
    func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus
}

/// The kind and identity (device and inode) of a directory entry.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case regular
        case directory
        case symbolicLink
        case other
    }

    public var kind: Kind
    public var device: UInt64
    public var inode: UInt64

    public init(kind: Kind, device: UInt64, inode: UInt64) {
        self.kind = kind
        self.device = device
        self.inode = inode
    }
}

/// How a mapped range will be used (madvise).
public enum MappingAdvice: Sendable {
    case sequential
    case willNeed
}

extension FileIO {
    /// Writes all of `buffers` at `position`, continuing after short writes.
    public func pwritevAll(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) {
        var remaining = buffers.filter { !$0.isEmpty }
        var at = position
        while !remaining.isEmpty {
            var written = try pwritev(descriptor, remaining, at: at, path: path)
            guard written > 0 else {
                throw StorageError(.systemCall(name: "pwritev", errno: EIO), path: path, position: at)
            }
            at += Int64(written)
            while written > 0 {
                if written >= remaining[0].count {
                    written -= remaining[0].count
                    remaining.removeFirst()
                } else {
                    remaining[0] = UnsafeRawBufferPointer(rebasing: remaining[0][written...])
                    written = 0
                }
            }
        }
    }

    /// Reads exactly `buffer.count` bytes at `position`, or throws.
    public func preadAll(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) {
        var done = 0
        while done < buffer.count {
            let read = try pread(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: position + Int64(done), path: path)
            guard read > 0 else {
                throw StorageError(.corrupt(reason: "file ends before the expected \(buffer.count) bytes"), path: path, position: position + Int64(done))
            }
            done += read
        }
    }

    /// Makes a directory entry change (create, rename, unlink) durable.
    public func fsyncDirectory(_ path: String) throws(StorageError) {
        let descriptor = try open(path, flags: O_RDONLY | O_DIRECTORY, mode: 0)
        defer { close(descriptor) }
        try fsync(descriptor, path: path)
    }

    /// Writes `bytes` to `path` durably and atomically: a temporary file, fsync, rename, fsync
    /// of the directory — the pattern Kafka uses for checkpoints.
    ///
    /// The temporary file's name is unique (`<path>.<pid>.<counter>.tmp`): two writers of the
    /// same file (a background checkpoint and the one at close) must never truncate and rename
    /// each other's half-written temporary. Leftovers of a crash end in `.tmp`, which start-up
    /// deletes.
    public func writeFileAtomically(_ path: String, bytes: [UInt8]) throws(StorageError) {
        let number = temporaryFileCounter.add(1, ordering: .relaxed).newValue
        let temporary = "\(path).\(getpid()).\(number)\(temporaryFileSuffix)"
        let descriptor = try open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        do throws(StorageError) {
            try bytes.withBytes { (buffer) throws(StorageError) in
                try pwritevAll(descriptor, [buffer], at: 0, path: temporary)
            }
            try fsync(descriptor, path: temporary)
        } catch {
            close(descriptor)
            throw error
        }
        close(descriptor)
        try rename(temporary, to: path)
        try fsyncDirectory(parentDirectory(of: path))
    }

    /// The whole content of a small file (checkpoints, metadata).
    public func readSmallFile(_ path: String, bytesMax: Int = 16 << 20) throws(StorageError) -> [UInt8] {
        let descriptor = try open(path, flags: O_RDONLY, mode: 0)
        defer { close(descriptor) }
        let size = try fileSize(descriptor, path: path)
        guard size <= bytesMax else {
            throw StorageError(.corrupt(reason: "file of \(size) bytes is larger than the \(bytesMax) bytes expected"), path: path)
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withMutableBytes { (buffer) throws(StorageError) in
            try preadAll(descriptor, into: buffer, at: 0, path: path)
        }
        return bytes
    }
}

/// The suffix of `writeFileAtomically`'s temporary files: what start-up deletes as leftovers.
public let temporaryFileSuffix = ".tmp"

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

func fileName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}
