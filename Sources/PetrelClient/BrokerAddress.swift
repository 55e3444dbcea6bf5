/// Where a broker listens: the `HOST:PORT` a user types for `--bootstrap-server`, or a node's
/// advertised endpoint from Metadata. Errors name brokers by it, so that a message says which
/// of several brokers failed.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        precondition((0...65_535).contains(port), "a port outside 0-65535")
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (`[::1]:9092` for an IPv6 literal); nil when it is not one.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65_535).contains(port) else { return nil }
        var host = Substring(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
