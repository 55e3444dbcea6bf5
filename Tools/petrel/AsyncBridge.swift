import Dispatch
import Synchronization

/// Runs `body` on Swift's concurrency pool and blocks the calling thread until it finishes.
///
/// `petrel`'s commands are synchronous (its root command is, for `petrel broker`'s dispatch
/// main loop), while the Kafka client is async. Blocking is safe here because the caller is the
/// main thread, never a thread of the pool that runs `body`.
func runBlocking<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) -> Value {
    let box = ResultBox<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        box.value.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    guard let value = box.value.withLock({ $0 }) else { preconditionFailure("the task signalled without a result") }
    return value
}

/// Where the task leaves its result for the blocked caller.
private final class ResultBox<Value: Sendable>: Sendable {
    let value = Mutex<Value?>(nil)
}
