public import PetrelFormat

/// An operating error of the storage engine: what failed, and the file, byte position and
/// offset concerned when known.
///
/// Programmer errors (a negative size, an offset below zero passed by the caller's own logic)
/// trap with `precondition`; everything the disk or the input can cause is one of these.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Code: Equatable, Sendable {
        /// A system call failed; `errno` says why (ENOSPC, EIO, …).
        case systemCall(name: String, errno: Int32)
        /// A batch handed to `append` is not a valid RecordBatch v2.
        case invalidBatch(FormatError)
        /// A batch exceeds `max.message.bytes` or the segment size.
        case batchTooLarge(sizeBytes: Int, limitBytes: Int)
        /// A client batch that breaks an append rule (control batch, empty batch, bad offsets).
        case invalidAppend(reason: String)
        /// The requested offset is outside [log start offset, log end offset].
        case offsetOutOfRange(requested: Int64, logStartOffset: Int64, logEndOffset: Int64)
        /// The log was taken offline after a failed fsync (its page-cache state is unknown) or
        /// closed; nothing more is accepted.
        case logOffline(reason: String)
        /// On-disk data that cannot be trusted and could not be repaired automatically.
        case corrupt(reason: String)
        /// A file or directory that should exist does not, or one that should not exists.
        case notFound
        case alreadyExists
        /// Another process holds the data directory's lock file.
        case directoryInUse
        /// A log setting out of its allowed range (operator input): see `LogConfig.validated()`.
        case invalidConfig(LogConfigProblem)
        /// Two entries of the data directory are the same directory (a symbolic link to a
        /// partition directory): opening both would make two logs of the same files.
        case duplicatePartitionDirectory(otherPath: String)
        /// An idempotent producer's batch does not follow its previous one.
        case outOfOrderSequence(producerId: Int64, sequence: Int32, expected: Int32)
        /// A batch from an older epoch of a producer than the one the log has seen (fenced).
        case invalidProducerEpoch(producerId: Int64, epoch: Int16, currentEpoch: Int16)
        /// Records without a key sent to a compacted log, by their index in their batch
        /// (Kafka's per-record errors, which a producer reports record by record).
        case recordsWithoutKey(recordIndexes: [Int32])
    }

    public var code: Code
    public var path: String?
    public var position: Int64?
    public var offset: Int64?

    public init(_ code: Code, path: String? = nil, position: Int64? = nil, offset: Int64? = nil) {
        self.code = code
        self.path = path
        self.position = position
        self.offset = offset
    }

    /// The errno of a failed system call, if that is what this is.
    public var errno: Int32? {
        if case let .systemCall(_, errno) = code { return errno }
        return nil
    }

    public var description: String {
        var text: String
        switch code {
        case let .systemCall(name, errno): text = "\(name) failed: \(SystemErrorText.describe(errno)) (errno \(errno))"
        case let .invalidBatch(error): text = "invalid batch: \(error)"
        case let .batchTooLarge(size, limit): text = "batch of \(size) bytes exceeds the \(limit)-byte limit"
        case let .invalidAppend(reason): text = "invalid append: \(reason)"
        case let .offsetOutOfRange(requested, start, end):
            text = "offset \(requested) is out of range [\(start), \(end)]"
        case let .logOffline(reason): text = "log offline: \(reason)"
        case let .corrupt(reason): text = "corrupt: \(reason)"
        case .notFound: text = "not found"
        case .alreadyExists: text = "already exists"
        case .directoryInUse: text = "the data directory is in use by another process"
        case let .invalidConfig(problem): text = problem.description
        case let .duplicatePartitionDirectory(other): text = "the same directory as \(other): a partition directory is opened once"
        case let .outOfOrderSequence(producer, sequence, expected):
            text = "producer \(producer): sequence \(sequence) out of order, expected \(expected)"
        case let .recordsWithoutKey(indexes):
            text = "a compacted topic cannot accept a record without a key (records \(indexes.prefix(3).map(String.init).joined(separator: ", "))\(indexes.count > 3 ? ", …" : ""))"
        case let .invalidProducerEpoch(producer, epoch, current):
            text = "producer \(producer): epoch \(epoch) is older than the current \(current)"
        }
        if let path { text += " [file \(path)" + (position.map { " at byte \($0)" } ?? "") + "]" }
        if let offset { text += " [offset \(offset)]" }
        return text
    }
}
