import NIOCore
import PetrelProtocol

/// Splits a broker's byte stream into response frames: int32 size, then that many bytes.
///
/// The size is bounded (`frameBytesMax`) so a corrupt or hostile stream cannot make the client
/// allocate without limit; a bad size fails the connection, and with it every request waiting.
struct ResponseFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Responses a group tool asks for are small; 100 MiB is Kafka's own `socket.request.max.bytes`.
    let frameBytesMax: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        // Four bytes at least: every response begins with its correlation id.
        guard size >= 4, Int(size) <= frameBytesMax else {
            throw ProtocolError(.invalidLength(field: "response frame size", length: Int64(size)), position: 0)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(size)) else { preconditionFailure("the frame's bytes were counted as readable") }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}
