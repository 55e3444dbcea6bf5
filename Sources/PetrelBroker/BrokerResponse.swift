public import PetrelProtocol
public import PetrelStorage

/// A response ready to send: the encoded bytes, and the record batches to insert into them
/// straight from segment files (`sendfile`), each a segment lease the sender releases once
/// written.
public struct BrokerResponse: Sendable {
    public var bytes: [UInt8]
    public var fileParts: [FilePart]

    public struct FilePart: Sendable {
        /// Where in `bytes` the file's bytes go.
        public var position: Int
        /// The leased range of the segment file. The sender releases it once the bytes are
        /// written (or failed) and never closes its descriptor.
        public var lease: SegmentLease
        public var count: Int

        public var descriptor: Int32 { lease.descriptor }
        public var fileOffset: Int64 { lease.position }
    }

    /// Bytes on the wire after the size prefix.
    public var messageBytes: Int { bytes.count + fileParts.reduce(0) { $0 + $1.count } }
}
