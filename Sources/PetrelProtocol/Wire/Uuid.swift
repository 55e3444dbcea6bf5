/// A Kafka uuid (topic ids): 16 bytes as two big-endian halves, so a value of the wrong length
/// cannot exist and the writer never has to refuse one.
public struct Uuid: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public static let zero = Uuid(high: 0, low: 0)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// nil unless `bytes` holds exactly 16 bytes.
    public init?<C: Collection<UInt8>>(bytes: C) {
        guard bytes.count == 16 else { return nil }
        let halves = (bytes.prefix(8), bytes.dropFirst(8))
        high = halves.0.reduce(0) { $0 << 8 | UInt64($1) }
        low = halves.1.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> UInt64(56 - 8 * ($0 % 8))) } }

    /// The usual 8-4-4-4-12 hex form, lowercase.
    public var description: String {
        let hex = bytes.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
        var text = ""
        for (index, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { text.append("-") }
            text.append(character)
        }
        return text
    }
}
