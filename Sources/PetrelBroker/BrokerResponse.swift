public import PetrelProtocol

/// A response ready to send: the encoded bytes, and the record batches to insert into them
/// straight from segment files (`sendfile`), each an open descriptor the sender closes.
public struct BrokerResponse: Sendable {
    public var bytes: [UInt8]
    public var fileParts: [FilePart]

    public struct FilePart: Sendable {
        /// Where in `bytes` the file's bytes go.
        public var position: Int
        /// An open, read-only descriptor of the segment file; the sender owns and closes it.
        public var descriptor: Int32
        public var fileOffset: Int64
        public var count: Int
    }

    /// Bytes on the wire after the size prefix.
    public var messageBytes: Int { bytes.count + fileParts.reduce(0) { $0 + $1.count } }
}
