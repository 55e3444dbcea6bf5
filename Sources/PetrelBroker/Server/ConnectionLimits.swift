import PetrelStorage
import NIOCore

/// Counts open connections, in total and per client address, against `max.connections` and
/// `max.connections.per.ip`: a connection beyond either is closed as soon as it is accepted.
final class ConnectionLimits: Sendable {
    private let totalMax: Int
    private let perAddressMax: Int
    private let counts = Locked<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(totalMax: Int, perAddressMax: Int) {
        self.totalMax = totalMax
        self.perAddressMax = perAddressMax
    }

    /// Takes a place for a connection from `address`; false when a limit is reached.
    func admit(_ address: String) -> Bool {
        counts.withLock { counts in
            guard counts.total < totalMax, counts.byAddress[address, default: 0] < perAddressMax else { return false }
            counts.total += 1
            counts.byAddress[address, default: 0] += 1
            return true
        }
    }

    func release(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.byAddress[address, default: 1] - 1
            counts.byAddress[address] = left > 0 ? left : nil
        }
    }
}

/// Gives a connection's place back when it closes.
final class ConnectionReleaser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let limits: ConnectionLimits
    let address: String

    init(limits: ConnectionLimits, address: String) {
        self.limits = limits
        self.address = address
    }

    func channelInactive(context: ChannelHandlerContext) {
        limits.release(address)
        context.fireChannelInactive()
    }
}

/// Closes a connection that `IdleStateHandler` found idle for `connections.max.idle.ms`.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
