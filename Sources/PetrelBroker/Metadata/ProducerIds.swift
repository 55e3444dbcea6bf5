import PetrelStorage
import Synchronization

/// Hands out producer ids that are never reused, even across crashes: ids are reserved in blocks
/// of 1,000 by durably writing the next block's start to `producer-id-block` before any id of
/// the current block is given out.
///
/// A missing file means a new data directory (ids start at 0); a file that cannot be read or
/// parsed is refused at start-up, since guessing would hand out ids that were used before.
final class ProducerIds: Sendable {
    static let blockSize: Int64 = 1000
    private let path: String
    private let io: any FileIO
    private let state: Locked<(next: Int64, blockEnd: Int64)>

    init(directory: String, io: any FileIO) throws(StorageError) {
        path = "\(directory)/\(BrokerStateFiles.producerIdBlockName)"
        self.io = io
        let stored = io.exists(path) ? try BrokerStateFiles.nextProducerId(parsing: io.readSmallFile(path, bytesMax: 4096), path: path) : 0
        state = Locked((stored, stored))
    }

    func next() throws(StorageError) -> Int64 {
        try state.withLock { (state) throws(StorageError) -> Int64 in
            if state.next >= state.blockEnd {
                let end = state.next + Self.blockSize
                try io.writeFileAtomically(path, bytes: Array("next=\(end)\n".utf8))
                state.blockEnd = end
            }
            defer { state.next += 1 }
            return state.next
        }
    }
}
