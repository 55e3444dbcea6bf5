/// The bytes of one request frame, and whatever keeps them alive.
///
/// A frame that arrived from the network stays in the network layer's buffer: the broker lends
/// its memory with the buffer's storage as `owner`, so decoding reads it in place and the
/// records of a produce go from that memory to the log's `pwritev` with no copy. The memory is
/// released when the last `FrameBytes` reference goes: the request's decoded values
/// (`RecordBytes`) and any append still writing them hold one.
public final class FrameBytes: @unchecked Sendable {
    // Safe: both stored properties are immutable, and the memory `bytes` points to is never
    // written while this object lives (a lender promises that; a copy is this object's own).
    /// The frame's bytes: valid and unchanged for as long as this object lives.
    public let bytes: UnsafeRawBufferPointer
    /// What keeps borrowed memory alive; nil when `bytes` is this object's own allocation.
    private let owner: AnyObject?

    /// Borrows memory that `owner` keeps alive and unchanged for as long as it is referenced.
    public init(borrowing bytes: UnsafeRawBufferPointer, keptAliveBy owner: AnyObject) {
        self.bytes = bytes
        self.owner = owner
    }

    /// Copies `array` (for tests and tools that build frames as arrays).
    public init(copying array: [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: array.count, alignment: 16)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress, source.count > 0 { buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
        self.bytes = UnsafeRawBufferPointer(buffer)
        self.owner = nil
    }

    deinit {
        if owner == nil { bytes.deallocate() }
    }
}

/// A range of a frame's bytes that keeps the frame alive: the records of a decoded request,
/// as they arrived.
public struct RecordBytes: Sendable, Equatable, CustomStringConvertible {
    public let frame: FrameBytes
    /// Where the bytes are in `frame.bytes`.
    public let range: Range<Int>

    public init(frame: FrameBytes, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= frame.bytes.count, "a range outside its frame")
        self.frame = frame
        self.range = range
    }

    /// A frame of its own holding a copy of `bytes`.
    public init(copying bytes: some Collection<UInt8>) {
        let frame = FrameBytes(copying: Array(bytes))
        self.init(frame: frame, range: 0..<frame.bytes.count)
    }

    public var count: Int { range.count }

    /// The bytes, inside the frame's memory: valid for as long as this value lives.
    public var unsafeBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: frame.bytes[range]) }

    /// A copy, as an array.
    public var array: [UInt8] { Array(unsafeBytes) }

    public static func == (lhs: RecordBytes, rhs: RecordBytes) -> Bool { lhs.unsafeBytes.elementsEqual(rhs.unsafeBytes) }

    public var description: String { "RecordBytes(\(count) bytes)" }
}
