/// The steps of a cleaning pass that leave different files behind, for tests that stop a pass
/// there (a simulated crash: the hook throws; a real one: it kills the process) and check that
/// opening the log finishes or rolls back what was left, losing nothing.
public enum CleanerStep: String, Sendable, CaseIterable {
    /// The offset map is built; nothing is written yet.
    case offsetMapBuilt = "offset-map-built"
    /// `<base>.log.cleaned` and its indexes are written and fsynced.
    case cleanedWritten = "cleaned-written"
    /// The log file is renamed `.swap`, its indexes still `.cleaned` (opening rolls back).
    case logRenamedToSwap = "log-renamed-to-swap"
    /// All three are `.swap` (opening finishes the swap).
    case swapWritten = "swap-written"
    /// The replaced segments' files are renamed `.deleted`; the `.swap` files are not yet renamed.
    case replacedSegmentsDeleted = "replaced-segments-deleted"
    /// The `.swap` files have their final names.
    case swapRenamed = "swap-renamed"
}

/// Called at each `CleanerStep` with the base offset of the group being cleaned. A hook that
/// throws stops the pass there, leaving the files as a crash would (the log object must then be
/// abandoned, not used further: its segments no longer match its files).
public struct CleanerHooks: Sendable {
    public var atStep: @Sendable (CleanerStep, Int64) throws(StorageError) -> Void

    public init(atStep: @escaping @Sendable (CleanerStep, Int64) throws(StorageError) -> Void) {
        self.atStep = atStep
    }
}
