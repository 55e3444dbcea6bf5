/// Bounds how many sealed segments keep their files mapped at once, across every log that
/// shares it: the least recently read segment lets go of its mappings when the bound is passed,
/// so 10,000 segments do not exhaust mappings (`vm.max_map_count`) or memory. A reader in the
/// middle of using an evicted segment keeps its own reference, so nothing is unmapped under it.
///
/// Sealed segments hold no file descriptors (they are closed right after mapping) except one
/// while a sender holds a lease on them (`SegmentHandle`, which this cache does not bound:
/// leases end when their bytes are sent); the active segment of each log holds three.
public final class SegmentHandleCache: Sendable {
    public let capacity: Int
    private let state = Locked<State>(State())

    private struct State {
        var clock: UInt64 = 0
        var entries: [ObjectIdentifier: Entry] = [:]
    }

    private struct Entry {
        weak var segment: Segment?
        var lastUse: UInt64
    }

    public init(capacity: Int = 1024) {
        precondition(capacity > 0, "the cache must hold at least one segment")
        self.capacity = capacity
    }

    /// Sealed segments currently holding mappings through this cache.
    public var openCount: Int { state.withLock { $0.entries.values.filter { $0.segment != nil }.count } }

    /// Records a use of `segment`'s mappings; evicts the least recently used beyond capacity.
    func touch(_ segment: Segment) {
        let victims: [Segment] = state.withLock { state in
            state.clock += 1
            state.entries[ObjectIdentifier(segment)] = Entry(segment: segment, lastUse: state.clock)
            var victims: [Segment] = []
            while state.entries.count > capacity {
                let oldest = state.entries.min { $0.value.lastUse < $1.value.lastUse }!
                state.entries.removeValue(forKey: oldest.key)
                if let victim = oldest.value.segment { victims.append(victim) }
            }
            return victims
        }
        // Outside the cache lock: a segment's own lock is taken while releasing.
        for victim in victims { victim.releaseSealedHandles() }
    }

    func forget(_ segment: Segment) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(segment)) }
    }
}
