#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A file of fixed-size big-endian entries, mapped in full: the shared machinery of the offset
/// and time indexes (Kafka's `AbstractIndex`).
///
/// A writable index is preallocated to its maximum size (sparse) and trimmed to its entries when
/// sealed; an existing file is taken to hold `length / entryBytes` entries, which is why trimming
/// matters (and why the trim is fsynced before anything relies on it, see `syncAndClose`).
/// Entries are appended by the log's single writer beyond the published count, which is then
/// advanced with a release store, so lock-free readers never see a half-written entry.
///
/// Entries are stored through the writable mapping, so the pages they land on must have disk
/// blocks first: a store to a hole of a sparse file faults (SIGBUS) when the disk is full. The
/// writer allocates the file in `allocationChunkBytes` steps ahead of the entries (`reserve`,
/// one posix_fallocate per 64 KiB of index, before the log bytes are written), which keeps the
/// per-entry cost a plain store; a pwrite per entry would be a system call per
/// `index.interval.bytes` of log, and allocating the whole preallocation up front would cost
/// every partition 2 × `segment.index.bytes` of real disk.
final class IndexFile: @unchecked Sendable {
    // Safe: mutation happens only from the log's single writer, or with readers excluded by the
    // log's structure lock (truncate, seal); readers read entries below the atomic count only.
    static let allocationChunkBytes = 64 << 10

    let path: String
    let entryBytes: Int
    private let io: any FileIO
    private var descriptor: Int32
    private var mapping: FileMapping?
    private let publishedEntries = Atomic<Int>(0)
    /// Bytes from the start of the file known to have disk blocks (writable indexes only).
    private var allocatedBytes = 0
    /// Trimmed and closed for appends; the descriptor stays open until `syncAndClose`.
    private var isSealed = false

    /// Opens or creates the index. `bytesMax` is the preallocation for a writable index.
    init(path: String, entryBytes: Int, bytesMax: Int, writable: Bool, io: any FileIO) throws(StorageError) {
        precondition(entryBytes > 0 && bytesMax >= entryBytes, "an index must hold at least one entry")
        self.path = path
        self.entryBytes = entryBytes
        self.io = io
        descriptor = try io.open(path, flags: writable ? O_RDWR | O_CREAT : O_RDONLY, mode: 0o644)
        do throws(StorageError) {
            let size = Int(try io.fileSize(descriptor, path: path))
            let entries = size / entryBytes
            let capacity = writable ? max(bytesMax / entryBytes, entries) * entryBytes : entries * entryBytes
            if writable && size != capacity { try io.ftruncate(descriptor, length: Int64(capacity), path: path) }
            if capacity > 0 {
                mapping = try FileMapping(descriptor: descriptor, length: capacity, writable: writable, path: path, io: io)
            }
            publishedEntries.store(entries, ordering: .releasing)
            if writable {
                try reserve(entries: 1)
            } else {
                io.close(descriptor)
                descriptor = -1
                isSealed = true
            }
        } catch {
            // deinit runs for an initializer that throws once every property is set: mark the
            // descriptor closed, or it would be closed twice — the second time, a number some
            // other file may already have been given.
            io.close(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit { if descriptor >= 0 { io.close(descriptor) } }

    var count: Int { publishedEntries.load(ordering: .acquiring) }
    var capacity: Int { (mapping?.length ?? 0) / entryBytes }
    var isFull: Bool { count >= capacity }

    /// The bytes of entry `index`, which must be below `count`.
    func entry(_ index: Int) -> UnsafeRawPointer {
        precondition(index >= 0 && index < count, "index entry \(index) out of range")
        return UnsafeRawPointer(mapping!.base + index * entryBytes)
    }

    /// Makes sure the next `entries` entries (as many as fit) have disk blocks behind them, so
    /// that appending them stores only to allocated pages.
    /// - Throws: ENOSPC (or another errno) from the allocation; nothing was stored.
    func reserve(entries: Int) throws(StorageError) {
        precondition(entries >= 0 && !isSealed && descriptor >= 0, "reserving space in a sealed index")
        let capacityBytes = capacity * entryBytes
        let neededBytes = min((count + entries) * entryBytes, capacityBytes)
        guard neededBytes > allocatedBytes else { return }
        let chunk = Self.allocationChunkBytes
        let target = min((neededBytes + chunk - 1) / chunk * chunk, capacityBytes)
        try io.allocate(descriptor, offset: Int64(allocatedBytes), length: Int64(target - allocatedBytes), path: path)
        allocatedBytes = target
    }

    /// Appends one entry written by `write`, then publishes it. Its bytes were reserved.
    func append(_ write: (UnsafeMutableRawPointer) -> Void) {
        let index = count
        precondition(index < capacity && descriptor >= 0 && !isSealed, "append to a full or sealed index")
        precondition((index + 1) * entryBytes <= allocatedBytes, "an index entry must land on allocated blocks (reserve first)")
        write(mapping!.base + index * entryBytes)
        publishedEntries.store(index + 1, ordering: .releasing)
    }

    /// Keeps the first `entries` entries. Callers exclude readers first.
    func truncate(toEntries entries: Int) {
        precondition(entries >= 0 && entries <= count, "truncation beyond the index")
        publishedEntries.store(entries, ordering: .releasing)
    }

    /// Drops the trailing entries whose offset (read by `offset`) is ≥ `target`: entries
    /// increase in offset, so they are a suffix. Callers exclude readers first.
    func truncate(removingEntriesFrom target: Int64, offset: (UnsafeRawPointer) -> Int64) {
        var keep = count
        while keep > 0 && offset(entry(keep - 1)) >= target { keep -= 1 }
        truncate(toEntries: keep)
    }

    /// Trims the file to its entries and closes it for appends: a sealed segment's index. The
    /// trim is not durable until `syncAndClose`.
    func seal() throws(StorageError) {
        guard descriptor >= 0, !isSealed else { return }
        if let mapping { try io.msync(mapping.base, length: mapping.length, path: path) }
        try io.ftruncate(descriptor, length: Int64(count * entryBytes), path: path)
        isSealed = true
    }

    /// fsyncs a sealed index (its entries and, above all, its trimmed size: after a power loss an
    /// untrimmed index would come back padded with zero entries) and closes its descriptor.
    func syncAndClose() throws(StorageError) {
        precondition(isSealed, "only a sealed index is synced and closed")
        guard descriptor >= 0 else { return }
        try io.fsync(descriptor, path: path)
        io.close(descriptor)
        descriptor = -1
    }

    /// The size of the index file at `path` and its last (up to) two whole entries, oldest
    /// first: what a cheap check of an index written earlier needs, read without mapping it.
    static func tail(path: String, entryBytes: Int, io: any FileIO) throws(StorageError) -> (sizeBytes: Int, entries: [[UInt8]]) {
        let descriptor = try io.open(path, flags: O_RDONLY, mode: 0)
        defer { io.close(descriptor) }
        let size = try io.fileSize(descriptor, path: path)
        guard size <= Int64(Int32.max) else { return (Int(Int32.max), []) }  // no valid index is that large
        let sizeBytes = Int(size)
        let count = min(2, sizeBytes / entryBytes)
        var bytes = [UInt8](repeating: 0, count: count * entryBytes)
        let start = (sizeBytes / entryBytes - count) * entryBytes
        try bytes.withMutableBytes { (buffer) throws(StorageError) in
            try io.preadAll(descriptor, into: buffer, at: Int64(start), path: path)
        }
        return (sizeBytes, (0..<count).map { Array(bytes[($0 * entryBytes)..<(($0 + 1) * entryBytes)]) })
    }

    /// Binary search for the last entry whose key is ≤ `target`, trying the most recent 8 KiB of
    /// entries first (Kafka's warm section: tailing readers stay on a few resident pages).
    func largestLowerBound(_ target: Int64, key: (UnsafeRawPointer) -> Int64) -> Int? {
        let entries = count
        guard entries > 0 else { return nil }
        let warmEntries = 8192 / entryBytes
        let firstHot = max(0, entries - 1 - warmEntries)
        if key(entry(firstHot)) < target { return search(target, low: firstHot, high: entries - 1, key: key) }
        if key(entry(0)) > target { return nil }
        return search(target, low: 0, high: firstHot, key: key)
    }

    private func search(_ target: Int64, low: Int, high: Int, key: (UnsafeRawPointer) -> Int64) -> Int {
        var low = low, high = high
        while low < high {
            let middle = (low + high + 1) / 2
            let found = key(entry(middle))
            if found == target { return middle }
            if found < target { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
