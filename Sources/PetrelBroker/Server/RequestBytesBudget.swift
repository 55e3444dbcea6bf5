import PetrelStorage
import NIOCore

/// The request bytes read but not yet answered, across all connections
/// (`queued.max.request.bytes`). A connection that finds the budget spent stops reading and
/// is woken when enough is answered; its own bytes are bounded by `KafkaRequestHandler`.
final class RequestBytesBudget: Sendable {
    let bytesMax: Int
    private struct State {
        var queuedBytes = 0
        var paused: [ObjectIdentifier: KafkaRequestHandler] = [:]
    }
    private let state = Locked(State())

    init(bytesMax: Int) { self.bytesMax = bytesMax }


    func take(_ bytes: Int) { state.withLock { $0.queuedBytes += bytes } }

    /// Gives bytes back, and wakes the connections that paused for the budget once it has room.
    func give(_ bytes: Int) {
        let woken = state.withLock { state -> [KafkaRequestHandler] in
            state.queuedBytes -= bytes
            guard state.queuedBytes < bytesMax, !state.paused.isEmpty else { return [] }
            defer { state.paused.removeAll() }
            return Array(state.paused.values)
        }
        for handler in woken { handler.budgetHasRoom() }
    }

    /// Registers a connection to wake; false (not registered) if the budget has room already.
    func pause(_ handler: KafkaRequestHandler) -> Bool {
        state.withLock { state in
            guard state.queuedBytes >= bytesMax else { return false }
            state.paused[ObjectIdentifier(handler)] = handler
            return true
        }
    }

    func forget(_ handler: KafkaRequestHandler) { state.withLock { _ = $0.paused.removeValue(forKey: ObjectIdentifier(handler)) } }
}
