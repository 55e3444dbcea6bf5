#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reader-writer lock over pthread_rwlock: many readers of mapped segment bytes at once, or one
/// writer changing the segment list or shrinking a mapped file. Shrinking a file under a reader
/// would be SIGBUS, which is why reads of mapped bytes happen inside `withReadLock`.
final class ReadWriteLock: @unchecked Sendable {
    // Safe: the pthread_rwlock_t is heap-allocated once, never moved, and only used through the
    // pthread functions, which are thread-safe by contract.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        precondition(pthread_rwlock_init(lock, nil) == 0, "pthread_rwlock_init failed")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
