#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PetrelStorage

/// An in-memory file system behind the `FileIO` seam that knows, at every instant, what a power
/// loss would leave: for power-loss tests.
///
/// Each file has LIVE contents (what the running process sees) and DURABLE contents (what is on
/// the platter); each directory has LIVE and DURABLE entries. The rules are the strict POSIX
/// ones, which is what a crash on ext4/xfs can expose and what LazyFS only half models:
/// - `pwritev`, `ftruncate`, `allocate` and stores through a mapping change live contents only;
///   `fsync`/`fdatasync` of a file descriptor, or `msync` of a mapping, copy the live bytes and
///   size to durable (msync syncs the whole file: the engine always msyncs whole mappings).
/// - `open(O_CREAT)`, `mkdir`, `rename`, `unlink`, `rmdir` change live entries only; an `fsync`
///   of a descriptor opened on the directory copies its live entries to durable. fsync of a new
///   file does NOT make its name durable.
/// - After power loss only what is reachable from the root through durable entries exists, with
///   durable contents (`durableImage()`); `init(rebootingFrom:)` boots that state.
///
/// Unsynced file data that reached the disk anyway (page writeback: torn appends, half-written
/// pages) is modelled on request, at chosen calls (`writtenBackCrashImage`). Not modelled:
/// directory changes that reach the disk without an fsync (a journal commit), reordering of
/// directory changes, and I/O errors (`FaultInjectingFileIO` covers those).
///
/// Mappings: each file's live bytes sit in one private anonymous reservation (`fileBytesMax`
/// of address space, no memory until touched), so `mmap` returns a pointer into the very bytes
/// that `pwritev` writes and `pread` reads, as a shared file mapping would. Bytes past the live
/// size are kept zero, so a file grown again reads zeros. An access past the end of the file
/// does not fault here (it would, with SIGBUS, on a real mapping).
///
/// Crash points: every mutating call (open with O_CREAT/O_TRUNC, pwritev, ftruncate, allocate,
/// fsync, fdatasync, msync, rename, unlink, mkdir, rmdir) is numbered. While recording, the
/// simulator keeps the durable image as it was just before each call, so a test can run a
/// workload once to the end and then "crash" before any call N: boot `crashImage(beforeCall: N)`.
final class SimulatedFileIO: FileIO {
    let fileBytesMax: Int
    private let state: Locked<SimulatedFileSystem>

    init(fileBytesMax: Int = 64 << 20) {
        self.fileBytesMax = fileBytesMax
        state = Locked(SimulatedFileSystem())
    }

    /// A machine rebooted after power loss: `image` is both the live and the durable state; no
    /// descriptor is open, no lock is held.
    init(rebootingFrom image: FileSystemImage, fileBytesMax: Int = 64 << 20) {
        self.fileBytesMax = fileBytesMax
        var system = SimulatedFileSystem()
        system.nodes = [:]
        for (id, node) in image.nodes {
            switch node {
            case let .file(bytes): system.nodes[id] = .file(SimulatedFile(reserving: fileBytesMax, contents: bytes))
            case let .directory(entries): system.nodes[id] = .directory(SimulatedDirectory(entries: entries))
            }
        }
        system.nextNode = (image.nodes.keys.max() ?? 0) + 1
        state = Locked(system)
    }

    // MARK: Crash points

    /// Number of mutating calls so far.
    var mutationCount: Int { state.withLock { $0.mutations } }

    /// Starts keeping, for every later mutating call, the durable image just before it.
    func startRecordingCrashImages() {
        state.withLock { system in
            system.recording = true
            system.firstRecordedCall = system.mutations + 1
            system.images = [system.image(durable: true)]
            system.imageBeforeCall = [:]
            system.durableChanged = false
        }
    }

    /// The mutating calls a crash can be placed before: from the first recorded one to one past
    /// the last (a crash after everything).
    var crashPoints: ClosedRange<Int> { state.withLock { $0.firstRecordedCall...($0.mutations + 1) } }

    /// What a power loss just before mutating call `call` (1-based) would leave; nil if that
    /// call was not recorded. One past the last call: the durable state now.
    func crashImage(beforeCall call: Int) -> FileSystemImage? {
        state.withLock { system in
            call == system.mutations + 1 ? system.image(durable: true) : system.imageBeforeCall[call].map { system.images[$0] }
        }
    }

    /// Also keeps, before each of `calls`, an image where some unsynced data reached the disk
    /// anyway (`seed` picks what): see `writtenBackCrashImage(beforeCall:)`.
    func recordWrittenBackImages(before calls: Set<Int>, seed: UInt64) {
        state.withLock { system in
            system.writebackPoints = calls
            system.writebackRandom = SeededGenerator(seed: seed)
        }
    }

    /// A power loss before `call` after the kernel wrote back some unsynced data on its own:
    /// torn appends, half-written pages, sizes ahead of their data. Directory entries as in
    /// `crashImage(beforeCall:)`. Nil unless asked for with `recordWrittenBackImages`.
    func writtenBackCrashImage(beforeCall call: Int) -> FileSystemImage? { state.withLock { $0.writebackImages[call] } }

    /// Which distinct durable state a crash before `call` leaves (equal numbers: equal images).
    func crashImageNumber(beforeCall call: Int) -> Int? { state.withLock { $0.imageBeforeCall[call] } }

    /// Distinct durable states recorded so far.
    var crashImageCount: Int { state.withLock { $0.images.count } }

    /// "fsync /data/x-0" for mutating call `call`, for failure messages.
    func describeCall(_ call: Int) -> String { state.withLock { $0.trace[call] ?? "after the last call" } }

    /// What a power loss now would leave.
    func durableImage() -> FileSystemImage { state.withLock { $0.image(durable: true) } }

    /// What the running process sees now.
    func liveImage() -> FileSystemImage { state.withLock { $0.image(durable: false) } }

    // MARK: FileIO

    func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        try state.withLock { (system) throws(StorageError) -> Int32 in
            if flags & (O_CREAT | O_TRUNC) != 0 { system.noteMutation("open \(path) flags \(flags)") }
            let (parent, name) = try system.parent(of: path)
            let writable = flags & O_ACCMODE != O_RDONLY
            let id: Int
            if name.isEmpty {
                id = SimulatedFileSystem.rootNode
            } else if let existing = parent.live[name] {
                if flags & O_CREAT != 0 && flags & O_EXCL != 0 { throw SimulatedFileSystem.error("open", EEXIST, path) }
                id = existing
            } else {
                guard flags & O_CREAT != 0, flags & O_DIRECTORY == 0 else { throw SimulatedFileSystem.error("open", ENOENT, path) }
                id = system.addNode(.file(SimulatedFile(reserving: fileBytesMax)))
                parent.live[name] = id
            }
            switch system.nodes[id]! {
            case .directory:
                if writable { throw SimulatedFileSystem.error("open", EISDIR, path) }
            case let .file(file):
                if flags & O_DIRECTORY != 0 { throw SimulatedFileSystem.error("open", ENOTDIR, path) }
                if flags & O_TRUNC != 0 && writable { file.truncate(to: 0) }
            }
            let descriptor = system.nextDescriptor
            system.nextDescriptor += 1
            system.descriptors[descriptor] = SimulatedFileSystem.Descriptor(node: id, writable: writable)
            return descriptor
        }
    }

    func close(_ descriptor: Int32) {
        state.withLock { system in
            guard let open = system.descriptors.removeValue(forKey: descriptor) else { return }
            if system.locks[open.node] == descriptor { system.locks[open.node] = nil }
        }
    }

    func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        // The caller's buffers cross the lock as integers: pointers are not `sending` values.
        let sources = buffers.filter { !$0.isEmpty }.map { (address: Int(bitPattern: $0.baseAddress), count: $0.count) }
        return try state.withLock { (system) throws(StorageError) -> Int in
            system.noteMutation("pwritev \(path) at \(position)")
            let file = try system.file(descriptor, "pwritev", path, writing: true)
            let total = sources.reduce(0) { $0 + $1.count }
            guard position >= 0, Int(position) + total <= file.reservation else { throw SimulatedFileSystem.error("pwritev", EFBIG, path) }
            var at = Int(position)
            for source in sources {
                (file.base + at).copyMemory(from: UnsafeRawPointer(bitPattern: source.address)!, byteCount: source.count)
                at += source.count
            }
            file.size = max(file.size, at)
            return total
        }
    }

    func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64, path: String) throws(StorageError) -> Int {
        let destination = Int(bitPattern: buffer.baseAddress), capacity = buffer.count
        return try state.withLock { (system) throws(StorageError) -> Int in
            let file = try system.file(descriptor, "pread", path, writing: false)
            let count = max(0, min(capacity, file.size - Int(position)))
            if count > 0 { UnsafeMutableRawPointer(bitPattern: destination)!.copyMemory(from: file.base + Int(position), byteCount: count) }
            return count
        }
    }

    func fdatasync(_ descriptor: Int32, path: String) throws(StorageError) { try sync(descriptor, "fdatasync", path) }

    func fsync(_ descriptor: Int32, path: String) throws(StorageError) { try sync(descriptor, "fsync", path) }

    private func sync(_ descriptor: Int32, _ name: String, _ path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("\(name) \(path)")
            guard let open = system.descriptors[descriptor] else { throw SimulatedFileSystem.error(name, EBADF, path) }
            switch system.nodes[open.node]! {
            case let .file(file): file.durable = file.liveBytes
            case let .directory(directory): directory.durable = directory.live
            }
            system.durableChanged = true
        }
    }

    func ftruncate(_ descriptor: Int32, length: Int64, path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("ftruncate \(path) to \(length)")
            let file = try system.file(descriptor, "ftruncate", path, writing: true)
            guard length >= 0, Int(length) <= file.reservation else { throw SimulatedFileSystem.error("ftruncate", EFBIG, path) }
            file.truncate(to: Int(length))
        }
    }

    /// posix_fallocate: the file grows to cover the range (zeros); not a durability point.
    func allocate(_ descriptor: Int32, offset: Int64, length: Int64, path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("allocate \(path) \(offset)+\(length)")
            let file = try system.file(descriptor, "posix_fallocate", path, writing: true)
            guard offset >= 0, length > 0, Int(offset + length) <= file.reservation else {
                throw SimulatedFileSystem.error("posix_fallocate", offset < 0 || length <= 0 ? EINVAL : EFBIG, path)
            }
            file.size = max(file.size, Int(offset + length))
        }
    }

    func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int64 {
        try state.withLock { (system) throws(StorageError) -> Int64 in
            guard let open = system.descriptors[descriptor] else { throw SimulatedFileSystem.error("fstat", EBADF, path) }
            if case let .file(file) = system.nodes[open.node]! { return Int64(file.size) }
            return 4096
        }
    }

    func rename(_ from: String, to: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("rename \(from) to \(to)")
            let (source, sourceName) = try system.parent(of: from)
            let (target, targetName) = try system.parent(of: to)
            guard let id = source.live[sourceName] else { throw SimulatedFileSystem.error("rename", ENOENT, from) }
            if let replaced = target.live[targetName], replaced != id {
                switch (system.nodes[id]!, system.nodes[replaced]!) {
                case (.file, .directory): throw SimulatedFileSystem.error("rename", EISDIR, to)
                case (.directory, .file): throw SimulatedFileSystem.error("rename", ENOTDIR, to)
                case let (.directory, .directory(directory)) where !directory.live.isEmpty:
                    throw SimulatedFileSystem.error("rename", ENOTEMPTY, to)
                default: break
                }
            }
            source.live[sourceName] = nil
            target.live[targetName] = id
        }
    }

    func unlink(_ path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("unlink \(path)")
            let (parent, name) = try system.parent(of: path)
            guard let id = parent.live[name] else { throw SimulatedFileSystem.error("unlink", ENOENT, path) }
            guard case .file = system.nodes[id]! else { throw SimulatedFileSystem.error("unlink", EISDIR, path) }
            parent.live[name] = nil
        }
    }

    func mkdir(_ path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("mkdir \(path)")
            let (parent, name) = try system.parent(of: path)
            guard parent.live[name] == nil else { throw SimulatedFileSystem.error("mkdir", EEXIST, path) }
            parent.live[name] = system.addNode(.directory(SimulatedDirectory(entries: [:])))
        }
    }

    func rmdir(_ path: String) throws(StorageError) {
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("rmdir \(path)")
            let (parent, name) = try system.parent(of: path)
            guard let id = parent.live[name] else { throw SimulatedFileSystem.error("rmdir", ENOENT, path) }
            guard case let .directory(directory) = system.nodes[id]! else { throw SimulatedFileSystem.error("rmdir", ENOTDIR, path) }
            guard directory.live.isEmpty else { throw SimulatedFileSystem.error("rmdir", ENOTEMPTY, path) }
            parent.live[name] = nil
        }
    }

    func exists(_ path: String) -> Bool { state.withLock { $0.resolve(path) != nil } }

    /// stat/lstat: there are no symbolic links here, so both give the node itself; its id is the
    /// inode number on one device.
    func fileStatus(_ path: String, followingSymlink: Bool) throws(StorageError) -> FileStatus {
        try state.withLock { (system) throws(StorageError) -> FileStatus in
            guard let id = system.resolve(path), let node = system.nodes[id] else { throw SimulatedFileSystem.error("stat", ENOENT, path) }
            let kind: FileStatus.Kind
            switch node {
            case .file: kind = .regular
            case .directory: kind = .directory
            }
            return FileStatus(kind: kind, device: 1, inode: UInt64(id))
        }
    }

    func listDirectory(_ path: String) throws(StorageError) -> [String] {
        try state.withLock { (system) throws(StorageError) -> [String] in
            guard let id = system.resolve(path) else { throw SimulatedFileSystem.error("opendir", ENOENT, path) }
            guard case let .directory(directory) = system.nodes[id]! else { throw SimulatedFileSystem.error("opendir", ENOTDIR, path) }
            return directory.live.keys.sorted()
        }
    }

    func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        precondition(length > 0, "cannot map an empty region")
        // The address crosses the lock as an integer: a pointer is not a `sending` value.
        let address = try state.withLock { (system) throws(StorageError) -> Int in
            let file = try system.file(descriptor, "mmap", path, writing: writable)
            guard length <= file.reservation else { throw SimulatedFileSystem.error("mmap", ENOMEM, path) }
            return Int(bitPattern: file.base)
        }
        return UnsafeMutableRawPointer(bitPattern: address)!
    }

    /// Unmapping changes nothing on disk; the reservation lives as long as the simulator.
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) {}

    func msync(_ address: UnsafeMutableRawPointer, length: Int, path: String) throws(StorageError) {
        let start = Int(bitPattern: address)
        try state.withLock { (system) throws(StorageError) in
            system.noteMutation("msync \(path)")
            for case let .file(file) in system.nodes.values {
                let base = Int(bitPattern: file.base)
                if start >= base && start + length <= base + file.reservation {
                    file.durable = file.liveBytes
                    system.durableChanged = true
                    return
                }
            }
            throw SimulatedFileSystem.error("msync", ENOMEM, path)
        }
    }

    func advise(_ address: UnsafeMutableRawPointer, length: Int, _ advice: MappingAdvice) {}

    /// flock semantics within this boot: one descriptor holds a file's lock until it is closed.
    func tryLockExclusive(_ descriptor: Int32, path: String) throws(StorageError) -> Bool {
        try state.withLock { (system) throws(StorageError) -> Bool in
            guard let open = system.descriptors[descriptor] else { throw SimulatedFileSystem.error("flock", EBADF, path) }
            if let holder = system.locks[open.node], holder != descriptor { return false }
            system.locks[open.node] = descriptor
            return true
        }
    }
}
