import NIOCore
import PetrelProtocol

extension FrameBytes {
    /// The readable bytes of `buffer`, lent without a copy: the frame holds a reference to the
    /// buffer's storage, so the memory stays valid, and — since the storage is then shared, any
    /// later write to a buffer on it copies first (copy on write) — unchanged, until the last
    /// value decoded from the frame (the records an append is writing) goes.
    static func lending(_ buffer: ByteBuffer) -> FrameBytes {
        buffer.withUnsafeReadableBytesWithStorageManagement { bytes, storage in
            FrameBytes(borrowing: bytes, keptAliveBy: storage.takeUnretainedValue())
        }
    }
}
