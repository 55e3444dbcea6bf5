#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The owner of one segment file's identity (its inode) for readers that outlive the log's
/// structure lock: a sender holding a `SegmentLease` while `sendfile` runs on another thread.
///
/// It counts the leases lent and keeps one read-only descriptor open while any is held, shared
/// by them (opened by the first, closed by the last: a sealed segment nobody is sending holds no
/// descriptor). Retention, truncation and compaction never pull the file from under a lease:
/// they `retire` the handle — a segment deleted while leased is renamed `.deleted` and unlinked
/// only when the last lease is released; a segment cut while leased is replaced by a copy of its
/// prefix, so the leased inode keeps its bytes (see `Segment.truncate`).
///
/// Mapped reads (`Log.read`'s closure) do not need a lease: they run under the structure read
/// lock, which excludes every one of those changes, and hold their `FileMapping` reference.
final class SegmentHandle: Sendable {
    let path: String
    private let io: any FileIO
    private let state = Locked<State>(State())

    private struct State {
        var leases = 0
        var descriptor: Int32 = -1
        /// Set once retired: the files to unlink when the last lease goes (may be empty).
        var pendingUnlinks: [String]?
    }

    init(path: String, io: any FileIO) {
        self.path = path
        self.io = io
    }

    /// Leases currently held (for tests and stats).
    var leaseCount: Int { state.withLock { $0.leases } }
    /// Whether a descriptor is open for leases (for tests).
    var hasOpenDescriptor: Bool { state.withLock { $0.descriptor >= 0 } }

    /// Lends the file: the shared descriptor, opened if no lease holds it yet. Called with the
    /// log's structure read lock held, so the handle cannot be retired meanwhile.
    func acquire() throws(StorageError) -> Int32 {
        try state.withLock { (state) throws(StorageError) -> Int32 in
            precondition(state.pendingUnlinks == nil, "a lease taken on a retired segment file: the structure lock was not held")
            if state.descriptor < 0 { state.descriptor = try io.open(path, flags: O_RDONLY, mode: 0) }
            state.leases += 1
            return state.descriptor
        }
    }

    /// Returns a lease. The last one closes the descriptor and, on a retired handle, unlinks the
    /// files its retirement left.
    func release() {
        let unlinks: [String] = state.withLock { state in
            precondition(state.leases > 0, "a segment lease released more often than it was taken")
            state.leases -= 1
            guard state.leases == 0 else { return [] }
            io.close(state.descriptor)
            state.descriptor = -1
            let pending = state.pendingUnlinks ?? []
            if state.pendingUnlinks != nil { state.pendingUnlinks = [] }
            return pending
        }
        for path in unlinks {
            // Nobody is left to report to (the sender finished). A failure leaves a `.deleted`
            // file, which the next start-up removes (`SegmentFiles.isStartupLeftover`); a name
            // already gone was taken by a later retirement of the same base offset and is
            // unlinked by it.
            do throws(StorageError) { try io.unlink(path) } catch { continue }
        }
    }

    /// Ends the file's life in the log: `unlinking` (already renamed out of the way, or empty
    /// when the name now belongs to a replacement) are unlinked now when no lease is held, else
    /// by the last `release()`.
    func retire(unlinking paths: [String]) throws(StorageError) {
        let now: [String] = state.withLock { state in
            precondition(state.pendingUnlinks == nil, "a segment file retired twice")
            if state.leases > 0 {
                state.pendingUnlinks = paths
                return []
            }
            state.pendingUnlinks = []
            return paths
        }
        for path in now { try io.unlink(path) }
    }

    deinit {
        // Leases hold a reference, so none is outstanding here.
        state.withLock { if $0.descriptor >= 0 { io.close($0.descriptor) } }
    }
}

/// A byte range of a segment file lent to a sender (a broker's `sendfile`), valid until
/// `release()`: whatever retention, truncation or compaction do meanwhile, the range read
/// through `descriptor` keeps the bytes it had when leased.
///
/// Release it once the bytes are sent (or the send failed); the descriptor is the lease's, not
/// the caller's: never close it. Releasing twice is a programmer error and traps. A lease
/// dropped without a release is released by its deinit, so a forgotten release on an error
/// path delays a deletion but never leaks a descriptor or a file.
public final class SegmentLease: Sendable {
    /// An open, read-only descriptor of the segment's `.log` file (shared: read with offsets,
    /// `pread`/`sendfile`, never by moving the file position).
    public let descriptor: Int32
    /// Byte position of the range in the file.
    public let position: Int64
    /// Bytes in the range (whole batches).
    public let count: Int
    /// Base offset of the segment the range belongs to.
    public let segmentBaseOffset: Int64
    private let handle: SegmentHandle
    private let released = Atomic<Bool>(false)

    init(handle: SegmentHandle, position: Int64, count: Int, segmentBaseOffset: Int64) throws(StorageError) {
        descriptor = try handle.acquire()
        self.handle = handle
        self.position = position
        self.count = count
        self.segmentBaseOffset = segmentBaseOffset
    }

    /// Hands the range back. After this the descriptor may be closed at any moment.
    public func release() {
        let (exchanged, _) = released.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        precondition(exchanged, "a segment lease released twice")
        handle.release()
    }

    deinit {
        if !released.load(ordering: .acquiring) { handle.release() }
    }
}
