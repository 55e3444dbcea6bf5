/// What every generated request and response body is: a value with schema defaults, read and
/// written in any version its schema defines (headers are separate: `RequestHeader`,
/// `ResponseHeader`).
public protocol KafkaMessage: Sendable, Equatable {
    static var apiKey: ApiKey { get }
    static var validVersions: ClosedRange<Int16> { get }
    /// - Throws: `ProtocolError` for malformed bytes or a version outside `validVersions`.
    static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> Self
    /// - Throws: `ProtocolError` for a value this version cannot carry (see the reasons).
    func write(version: Int16, to writer: inout ProtocolWriter) throws(ProtocolError)
}
