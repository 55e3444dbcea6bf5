#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `FileIO` on the real system calls.
public struct SystemFileIO: FileIO {
    public init() {}

    @inline(__always)
    private func retrying<T>(_ name: String, path: String, position: Int64? = nil, _ call: () -> T) throws(StorageError) -> T
    where T: BinaryInteger {
        while true {
            let result = call()
            if result >= 0 { return result }
            let error = Glibc.errno
            if error == EINTR { continue }
            precondition(error != EBADF && error != EFAULT, "\(name) on \(path): bad descriptor or address is a bug")
            throw StorageError(.systemCall(name: name, errno: error), path: path, position: position)
        }
    }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        try retrying("open", path: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    public func close(_ descriptor: Int32) { _ = Glibc.close(descriptor) }

    public func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        // At most IOV_MAX (1024 on Linux) vectors per call; pwritevAll continues with the rest.
        let vectors = buffers.prefix(1024).map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        return try retrying("pwritev", path: path, position: position) {
            vectors.withUnsafeBufferPointer { Glibc.pwritev(descriptor, $0.baseAddress, Int32($0.count), off_t(position)) }
        }
    }

    public func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int {
        try retrying("pread", path: path, position: position) { Glibc.pread(descriptor, buffer.baseAddress, buffer.count, off_t(position)) }
    }

    public func fdatasync(_ descriptor: Int32, path: String) throws(StorageError) {
        _ = try retrying("fdatasync", path: path) { Glibc.fdatasync(descriptor) }
    }

    public func fsync(_ descriptor: Int32, path: String) throws(StorageError) {
        _ = try retrying("fsync", path: path) { Glibc.fsync(descriptor) }
    }

    public func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError) {
        _ = try retrying("ftruncate", path: path, position: length) { Glibc.ftruncate(descriptor, off_t(length)) }
    }

    public func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64 {
        var status = stat()
        _ = try retrying("fstat", path: path) { Glibc.fstat(descriptor, &status) }
        return Int64(status.st_size)
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        _ = try retrying("rename to \(to)", path: from) { Glibc.rename(from, to) }
    }

    public func unlink(_ path: String) throws(StorageError) {
        _ = try retrying("unlink", path: path) { Glibc.unlink(path) }
    }

    public func mkdir(_ path: String) throws(StorageError) {
        _ = try retrying("mkdir", path: path) { Glibc.mkdir(path, 0o755) }
    }

    public func rmdir(_ path: String) throws(StorageError) {
        _ = try retrying("rmdir", path: path) { Glibc.rmdir(path) }
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else {
            throw StorageError(.systemCall(name: "opendir", errno: Glibc.errno), path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        precondition(length > 0, "cannot map an empty region")
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        let address = Glibc.mmap(nil, length, protection, MAP_SHARED, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw StorageError(.systemCall(name: "mmap", errno: Glibc.errno), path: path)
        }
        return address
    }

    public func munmap(_ address: UnsafeMutableRawPointer, length: Int) { _ = Glibc.munmap(address, length) }

    public func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError) {
        _ = try retrying("msync", path: path) { Glibc.msync(address, length, MS_SYNC) }
    }

    public func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let error = Glibc.errno
            if error == EINTR { continue }
            if error == EWOULDBLOCK { return false }
            throw StorageError(.systemCall(name: "flock", errno: error), path: path)
        }
        return true
    }

    public func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) {
        precondition(offset >= 0 && length > 0, "allocating an empty or negative range")
        while true {
            // posix_fallocate returns the error instead of setting errno.
            let result = posix_fallocate(descriptor, off_t(offset), off_t(length))
            if result == 0 { return }
            if result == EINTR { continue }
            precondition(result != EBADF, "posix_fallocate on \(path): bad descriptor is a bug")
            throw StorageError(.systemCall(name: "posix_fallocate", errno: result), path: path, position: offset)
        }
    }

    public func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus {
        var status = stat()
        _ = try retrying(followingSymlink ? "stat" : "lstat", path: path) {
            fstatat(AT_FDCWD, path, &status, followingSymlink ? 0 : AT_SYMLINK_NOFOLLOW)
        }
        let kind: FileStatus.Kind = switch status.st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        default: .other
        }
        return FileStatus(kind: kind, device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    public func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice) {
        _ = madvise(address, length, advice == .sequential ? MADV_SEQUENTIAL : MADV_WILLNEED)
    }
}
