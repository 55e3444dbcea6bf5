import Dispatch
import PetrelProtocol

/// What a handler knows about the request it serves besides its body: who sent it, in which
/// version, and when it arrived. Cancellation is the task's: when the connection closes, the
/// request's task is cancelled (`Task.isCancelled`), and long work stops at its next step.
struct RequestContext: Sendable {
    let header: RequestHeader
    /// Monotonic time the request was taken up, for deadlines (`timeoutMs`, `maxWaitMs`).
    let receivedNanoseconds: UInt64
    /// The client's address as Kafka shows it in group descriptions (`/127.0.0.1`), or empty.
    let clientHost: String

    var apiVersion: Int16 { header.apiVersion }
    var clientId: String? { header.clientId }

    init(header: RequestHeader, clientHost: String = "", receivedNanoseconds: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        self.header = header
        self.clientHost = clientHost
        self.receivedNanoseconds = receivedNanoseconds
    }

    /// The monotonic instant `milliseconds` after the request arrived (negative counts as 0).
    func deadline(afterMs milliseconds: Int64) -> UInt64 {
        receivedNanoseconds &+ UInt64(max(0, milliseconds)) &* 1_000_000
    }
}
