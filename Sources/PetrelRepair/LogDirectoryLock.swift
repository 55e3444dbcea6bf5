import Foundation
public import PetrelStorage

/// The data directory's `.lock`, held (flock) by the broker or any process that owns the
/// directory. `petrel fsck --repair` takes it for the whole repair: repairing a directory a
/// broker has mapped would truncate files under it (SIGBUS in the broker).
public final class LogDirectoryLock: Sendable {
    public let path: String
    private let descriptor: Int32
    private let io: any FileIO

    /// Why the lock was not taken.
    public struct InUse: Error, CustomStringConvertible {
        public let path: String
        /// The holder's process id, when /proc/locks tells it.
        public let holder: Int32?
        public var description: String {
            "\(path) is locked by " + (holder.map { "process \($0)" } ?? "another process")
                + " (a running broker?): stop it first, or run fsck without --repair to check only"
        }
    }

    /// Takes the lock of `logDirectory` without waiting.
    /// - Throws: `InUse` when another process holds it; `StorageError` when it cannot be opened.
    public init(logDirectory: String, io: any FileIO = SystemFileIO()) throws {
        let path = "\(logDirectory)/\(LogDirectoryFiles.lock)"
        // The descriptor is stored only once the lock is held: deinit closes it, and must not
        // close it a second time after a failed attempt.
        let descriptor = try io.open(path, flags: O_RDWR | O_CREAT, mode: 0o644)
        let taken: Bool
        do { taken = try io.tryLockExclusive(descriptor, path: path) } catch {
            io.close(descriptor)
            throw error
        }
        guard taken else {
            io.close(descriptor)
            throw InUse(path: path, holder: Self.holder(of: path))
        }
        self.path = path
        self.io = io
        self.descriptor = descriptor
    }

    deinit { io.close(descriptor) }

    /// Whether another process holds the lock of `logDirectory` now (for a read-only check's warning).
    public static func holderIfLocked(logDirectory: String) -> InUse? {
        guard FileManager.default.fileExists(atPath: "\(logDirectory)/\(LogDirectoryFiles.lock)") else { return nil }
        do {
            _ = try LogDirectoryLock(logDirectory: logDirectory)
            return nil
        } catch let error as InUse {
            return error
        } catch {
            return nil
        }
    }

    /// The process holding a flock on `path`, from /proc/locks (`1: FLOCK ADVISORY WRITE <pid>
    /// <major>:<minor>:<inode> 0 EOF`), matched by inode.
    static func holder(of path: String) -> Int32? {
        var status = stat()
        guard stat(path, &status) == 0, let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        for line in locks.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            let device = fields[5].split(separator: ":")
            if device.count == 3, UInt64(device[2]) == UInt64(status.st_ino) { return pid }
        }
        return nil
    }
}
