#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex: Petrel's lock, used instead of `Synchronization.Mutex`.
///
/// Why not Mutex: Thread Sanitizer cannot see Mutex's ordering on Linux. Its contended path
/// runs in `libswiftSynchronization.so`, which is not instrumented, and the kernel hands the
/// lock word over (`FUTEX_LOCK_PI`), so two critical sections that met contention look
/// unordered and TSan reports a race that is none — at random, which kept TSan out of CI.
/// TSan intercepts `pthread_mutex_lock` and `pthread_mutex_unlock` wherever they are called, so
/// with this lock every report is about real code. Uncontended, both cost one atomic operation
/// each, as Mutex does; the value lives in the object, beside its mutex.
public final class Locked<Value>: @unchecked Sendable {
    // Safe: `value` is read and written only between pthread_mutex_lock and
    // pthread_mutex_unlock of `mutex`, which is heap-allocated once and never moved.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock. Not reentrant: a `withLock` of the same
    /// lock inside `body` deadlocks.
    @inlinable
    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        lock()
        defer { unlock() }
        return try body(&value)
    }

    // Not inlinable (the pthread functions are this module's internal import); the body above is,
    // so a caller's closure is specialised and only these two calls cross the module.
    @usableFromInline func lock() { pthread_mutex_lock(mutex) }
    @usableFromInline func unlock() { pthread_mutex_unlock(mutex) }
}
