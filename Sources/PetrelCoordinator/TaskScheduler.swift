/// The real scheduler: each piece of work is a task that sleeps for its delay. Cancelling the
/// work cancels its task, so a cancelled timer holds nothing until it would have fired.
public struct TaskScheduler: Scheduler {
    private let clock = SystemClock()

    public init() {}

    public var nowMs: Int64 { clock.nowMs }

    @discardableResult
    public func schedule(afterMs delayMs: Int64, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork {
        let nanoseconds = UInt64(clamping: max(0, delayMs)).multipliedReportingOverflow(by: 1_000_000)
        let delay = nanoseconds.overflow ? UInt64.max : nanoseconds.partialValue
        return ScheduledTask(task: Task {
            do { try await Task.sleep(nanoseconds: delay) } catch { return }
            work()
        })
    }

    struct ScheduledTask: ScheduledWork {
        let task: Task<Void, Never>
        func cancel() { task.cancel() }
    }
}
