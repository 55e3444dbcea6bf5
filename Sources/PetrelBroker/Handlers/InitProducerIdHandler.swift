import Logging
import PetrelProtocol
import PetrelStorage

/// InitProducerId (key 22), v0–4: idempotent producers get a fresh id at epoch 0, or their own
/// id with the epoch bumped when they ask (KIP-360). Transactions are not implemented yet.
struct InitProducerIdHandler: RequestHandler {
    let store: any MetadataStore
    let executor: StorageExecutor
    let logger: Logger
    var versions: ClosedRange<Int16> { 0...4 }
    var respondsOnly: Bool { false }

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> HandlerResult<InitProducerIdResponse> {
        guard request.transactionalId == nil else {
            return .respond(InitProducerIdResponse(errorCode: .transactionalIdAuthorizationFailed, producerId: -1, producerEpoch: -1))
        }
        if request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < Int16.max {
            return .respond(InitProducerIdResponse(producerId: request.producerId, producerEpoch: request.producerEpoch + 1))
        }
        // Blocking: reserving a new block of ids writes a file.
        let next = await executor.run { [store] () -> Result<Int64, StorageError> in
            do throws(StorageError) { return .success(try store.nextProducerId()) } catch { return .failure(error) }
        }
        switch next {
        case let .success(id):
            return .respond(InitProducerIdResponse(producerId: id, producerEpoch: 0))
        case let .failure(error):
            logger.error("reserving producer ids failed: \(error)")
            return .respond(InitProducerIdResponse(errorCode: .kafkaStorageError, producerId: -1, producerEpoch: -1))
        }
    }
}
