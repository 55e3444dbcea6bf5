/// Buffer access that keeps typed throws: the standard `withUnsafeBytes` only rethrows untyped.
extension Array where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StorageError) -> R) throws(StorageError) -> R {
        try withUnsafeBytes { bytes in Result { () throws(StorageError) in try body(bytes) } }.get()
    }

    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(StorageError) -> R) throws(StorageError) -> R {
        try withUnsafeMutableBytes { bytes in Result { () throws(StorageError) in try body(bytes) } }.get()
    }
}
