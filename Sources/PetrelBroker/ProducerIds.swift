import Foundation
import PetrelStorage
import Synchronization

/// Hands out producer ids that are never reused, even across crashes: ids are reserved in blocks
/// of 1,000 by durably writing the next block's start to `producer-id-block` before any id of
/// the current block is given out.
final class ProducerIds: Sendable {
    static let blockSize: Int64 = 1000
    private let path: String
    private let state: Mutex<(next: Int64, blockEnd: Int64)>

    init(directory: String) throws {
        path = "\(directory)/producer-id-block"
        let stored = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { text in
            text.split(separator: "\n").first { $0.hasPrefix("next=") }.flatMap { Int64($0.dropFirst(5)) }
        } ?? 0
        state = Mutex((stored, stored))
    }

    func next() throws -> Int64 {
        try state.withLock { state in
            if state.next >= state.blockEnd {
                let end = state.next + Self.blockSize
                try SystemFileIO().writeFileAtomically(path, bytes: Array("next=\(end)\n".utf8))
                state.blockEnd = end
            }
            defer { state.next += 1 }
            return state.next
        }
    }
}
