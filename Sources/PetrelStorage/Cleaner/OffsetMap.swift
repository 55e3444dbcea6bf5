#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cleaner's key → latest offset map, in one fixed block of memory
/// (`log.cleaner.dedupe.buffer.size` divided among the cleaner threads), as Kafka's
/// `SkimpyOffsetMap`: open addressing over 24-byte slots, each a key's 128-bit digest and the
/// latest offset seen for it. A pass that finds more distinct keys than the map holds stops
/// where it filled (`isFull`) and cleans what it covered; the rest waits for the next pass.
///
/// Memory is allocated once and reused by every pass of the thread that owns it; it is the
/// cleaner's only memory that grows with the keys.
public final class OffsetMap: @unchecked Sendable {
    // Safe: one cleaner thread owns a map and uses it for one pass at a time; nothing else
    // reads it while a pass runs.
    static let slotBytes = 24
    /// Kafka's `log.cleaner.io.buffer.load.factor`: slots filled at most, so probes stay short.
    public static let loadFactor = 0.9

    public let memoryBytes: Int
    public let slotCount: Int
    /// Distinct keys the map takes before it counts as full.
    public let entriesMax: Int
    public private(set) var count = 0
    /// The last offset the current pass has put or skipped past; -1 before any.
    public internal(set) var latestOffset: Int64 = -1
    private let slots: UnsafeMutableRawPointer

    /// - Parameter memoryBytes: the map's whole memory; at least one slot (24 bytes).
    public init(memoryBytes: Int) {
        precondition(memoryBytes >= Self.slotBytes * 2, "an offset map needs room for at least two slots")
        self.memoryBytes = memoryBytes
        slotCount = memoryBytes / Self.slotBytes
        entriesMax = max(1, Int(Double(slotCount) * Self.loadFactor))
        slots = UnsafeMutableRawPointer.allocate(byteCount: slotCount * Self.slotBytes, alignment: 8)
        memset(slots, 0, slotCount * Self.slotBytes)
    }

    deinit { slots.deallocate() }

    /// Whether a key not yet in the map would not fit.
    public var isFull: Bool { count >= entriesMax }

    /// Empties the map for a new pass.
    public func clear() {
        if count > 0 { memset(slots, 0, slotCount * Self.slotBytes) }
        count = 0
        latestOffset = -1
    }

    /// Records `offset` as the latest for `key`. Returns false, changing nothing, when the key
    /// is new and the map is full.
    @discardableResult
    func put(_ digest: KeyDigest, offset: Int64) -> Bool {
        precondition(offset >= 0, "offsets are never negative")
        var slot = Int(digest.high % UInt64(slotCount))
        while true {
            let address = slots + slot * Self.slotBytes
            let stored = address.load(fromByteOffset: 16, as: Int64.self)
            if stored == 0 {
                guard count < entriesMax else { return false }
                address.storeBytes(of: digest.high, toByteOffset: 0, as: UInt64.self)
                address.storeBytes(of: digest.low, toByteOffset: 8, as: UInt64.self)
                // Stored plus one: an empty slot is all zero, and offset 0 is a real offset.
                address.storeBytes(of: offset + 1, toByteOffset: 16, as: Int64.self)
                count += 1
                return true
            }
            if address.load(fromByteOffset: 0, as: UInt64.self) == digest.high && address.load(fromByteOffset: 8, as: UInt64.self) == digest.low {
                address.storeBytes(of: offset + 1, toByteOffset: 16, as: Int64.self)
                return true
            }
            slot += 1
            if slot == slotCount { slot = 0 }
        }
    }

    /// The latest offset recorded for `key`, or nil.
    func offset(of digest: KeyDigest) -> Int64? {
        var slot = Int(digest.high % UInt64(slotCount))
        while true {
            let address = slots + slot * Self.slotBytes
            let stored = address.load(fromByteOffset: 16, as: Int64.self)
            if stored == 0 { return nil }
            if address.load(fromByteOffset: 0, as: UInt64.self) == digest.high && address.load(fromByteOffset: 8, as: UInt64.self) == digest.low {
                return stored - 1
            }
            slot += 1
            if slot == slotCount { slot = 0 }
        }
    }

    /// Convenience for keys held as bytes (tests, tools).
    public func put(key: [UInt8], offset: Int64) -> Bool { key.withUnsafeBytes { put(KeyDigest($0), offset: offset) } }
    public func offset(ofKey key: [UInt8]) -> Int64? { key.withUnsafeBytes { offset(of: KeyDigest($0)) } }
}
