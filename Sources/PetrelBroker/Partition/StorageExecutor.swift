import CThreadName
import DequeModule
import Foundation

/// The only path from request handling into blocking storage work — opening and creating logs,
/// fsyncs, deletions, reads that may fault on cold pages: a fixed set of threads of its own, so
/// that none of it runs on the Swift cooperative pool (two threads on a two-core machine: one
/// topic creation there stalls every heartbeat) or on an event loop.
///
/// Bounded: at most `queuedJobsMax` jobs wait for a thread; a caller that finds the queue full
/// suspends (it does not block a thread) until a job leaves the queue.
final class StorageExecutor: @unchecked Sendable {
    // Safe: every stored property below `condition` is read and written only with `condition`
    // locked; the threads are started in init and joined in `shutdown()`.
    private let condition = NSCondition()
    private var jobs = Deque<@Sendable () -> Void>()
    private var slotWaiters = Deque<CheckedContinuation<Void, Never>>()
    /// Jobs queued plus callers admitted and about to queue (each holds one slot).
    private var slotsTaken = 0
    private var running = 0
    private var stopping = false
    private var threadsLeft: Int
    /// The executor's threads, to tell whether code runs on one.
    private var threadIds: Set<pthread_t> = []
    private let queuedJobsMax: Int
    let threadCount: Int

    init(threads: Int, queuedJobsMax: Int) {
        precondition(threads > 0 && queuedJobsMax > 0, "a storage executor needs a thread and a queue")
        threadCount = threads
        threadsLeft = threads
        self.queuedJobsMax = queuedJobsMax
        for index in 0..<threads {
            let thread = Thread { [self] in
                // Named from inside, through pthread, not `Thread.name`: Foundation on Linux
                // applies that setter only once `start()` has stored the new thread's handle,
                // and `start()` stores it after the thread already runs, unsynchronized; when
                // the thread wins that race the name is silently dropped and the thread keeps
                // the one it inherited from its creator. The kernel keeps 15 characters.
                let name = "petrel-io-\(index)"
                precondition(name.utf8.count <= 15, "a thread name is at most 15 bytes")
                let status = petrel_name_current_thread(name)
                precondition(status == 0, "naming a storage thread \(name) failed: errno \(status)")
                condition.withLock { _ = threadIds.insert(pthread_self()) }
                work()
            }
            thread.start()
        }
    }

    /// Whether the calling code runs on one of the executor's threads.
    var ownsCurrentThread: Bool { condition.withLock { threadIds.contains(pthread_self()) } }

    /// Jobs running now (for tests and metrics).
    var runningCount: Int { condition.withLock { running } }
    /// Jobs waiting for a thread, and callers waiting for room in the queue (for tests).
    var queuedCount: Int { condition.withLock { jobs.count } }
    var heldBackCount: Int { condition.withLock { slotWaiters.count } }

    /// Runs `body` on a storage thread and returns its result.
    func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        await takeSlot()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            condition.withLock {
                jobs.append { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
                condition.signal()
            }
        }
        return try result.get()
    }

    private func takeSlot() async {
        let admitted = condition.withLock { () -> Bool in
            guard slotsTaken < queuedJobsMax else { return false }
            slotsTaken += 1
            return true
        }
        if admitted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admittedNow = condition.withLock { () -> Bool in
                // A slot may have freed between the two looks.
                if slotsTaken < queuedJobsMax {
                    slotsTaken += 1
                    return true
                }
                slotWaiters.append(continuation)
                return false
            }
            if admittedNow { continuation.resume() }
        }
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            guard let job = jobs.popFirst() else { break }
            // The job's slot passes to the first waiting caller, if any.
            let next = slotWaiters.popFirst()
            if next == nil { slotsTaken -= 1 }
            running += 1
            condition.unlock()
            next?.resume()
            job()
            condition.lock()
            running -= 1
        }
        threadsLeft -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs every queued job, then stops the threads and waits for them.
    func shutdown() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while threadsLeft > 0 { condition.wait() }
        }
    }
}
