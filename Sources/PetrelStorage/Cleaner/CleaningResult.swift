/// What one cleaning pass of a log did.
public struct CleaningResult: Sendable, Equatable {
    /// Where the dirty section began (the checkpoint given, clamped to the log).
    public var firstDirtyOffset: Int64
    /// The offsets below this are clean now: the new `cleaner-offset-checkpoint` entry. Equal to
    /// `firstDirtyOffset` when there was nothing to clean.
    public var endOffset: Int64
    /// Whether the offset map filled before the dirty section's end (the rest waits for the
    /// next pass).
    public var offsetMapFilled = false
    /// Bytes of the dirty section read to build the map.
    public var dirtyBytesRead: Int64 = 0
    /// Bytes of segments read and written while cleaning them.
    public var bytesRead: Int64 = 0
    public var bytesWritten: Int64 = 0
    public var segmentsCleaned = 0
    public var groupsSwapped = 0
    public var recordsRemoved = 0
    public var tombstonesRemoved = 0
    public var keylessRecordsRemoved = 0
    /// The earliest delete horizon of tombstones left in the log by this pass, if any: a pass at
    /// or after it can remove them.
    public var earliestDeleteHorizonMs: Int64?
    /// Why the pass stopped before swapping every group (the log was truncated, a segment it was
    /// cleaning was removed or replaced); what was swapped before stays.
    public var abortedBecause: String?

    public init(firstDirtyOffset: Int64, endOffset: Int64) {
        self.firstDirtyOffset = firstDirtyOffset
        self.endOffset = endOffset
    }
}
