@testable import PetrelStorage

/// A `FileIO` that forwards to `SystemFileIO` and records every path opened and every path
/// mapped, so a test can say which files an operation read (segments are read through
/// mappings; an open alone may be for a size).
final class RecordingFileIO: ForwardingFileIO {
    let underlying: any FileIO = SystemFileIO()
    private let opened = Locked<[String]>([])
    private let mapped = Locked<[String]>([])

    /// Paths opened, in order.
    var openedPaths: [String] { opened.withLock { $0 } }
    /// Paths mapped, in order.
    var mappedPaths: [String] { mapped.withLock { $0 } }

    func open(_ path: String, flags: Int32, mode: UInt32) throws(StorageError) -> Int32 {
        opened.withLock { $0.append(path) }
        return try underlying.open(path, flags: flags, mode: mode)
    }

    func mmap(_ descriptor: Int32, length: Int, writable: Bool, path: String) throws(StorageError) -> UnsafeMutableRawPointer {
        mapped.withLock { $0.append(path) }
        return try underlying.mmap(descriptor, length: length, writable: writable, path: path)
    }
}
