/// Records as JSON lines, for `petrel log read --json` and `petrel dump --json`: written by
/// hand into a byte buffer, since a general JSON serializer costs about 40 µs a record and these
/// tools print millions. Keys, values and header values are lowercase hex (null stays null);
/// the object's keys are sorted, as the tools printed them before.
extension DecodedRecord {
    /// Appends `{"headers":[…],"key":…,"offset":…,"timestamp":…,"value":…}` (no newline).
    public func appendJSON(to output: inout [UInt8]) {
        output.append(contentsOf: #"{"headers":["#.utf8)
        for (index, header) in headers.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: #"{"key":"#.utf8)
            JSONText.appendString(header.key, to: &output)
            output.append(contentsOf: #","value":"#.utf8)
            JSONText.appendHex(header.value, to: &output)
            output.append(UInt8(ascii: "}"))
        }
        output.append(contentsOf: #"],"key":"#.utf8)
        JSONText.appendHex(key, to: &output)
        output.append(contentsOf: #","offset":"#.utf8)
        JSONText.appendInteger(offset, to: &output)
        output.append(contentsOf: #","timestamp":"#.utf8)
        JSONText.appendInteger(timestamp, to: &output)
        output.append(contentsOf: #","value":"#.utf8)
        JSONText.appendHex(value, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// The record as one JSON object.
    public var json: String {
        var output: [UInt8] = []
        output.reserveCapacity(64 + 2 * ((key?.count ?? 0) + (value?.count ?? 0)))
        appendJSON(to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}

/// The pieces of JSON text the record writer needs.
public enum JSONText {
    private static let digits = Array("0123456789abcdef".utf8)

    /// `"<hex>"`, or `null` for nil.
    public static func appendHex(_ bytes: [UInt8]?, to output: inout [UInt8]) {
        guard let bytes else {
            output.append(contentsOf: "null".utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        output.reserveCapacity(output.count + 2 * bytes.count + 1)
        appendHexDigits(bytes, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    /// Two lowercase hex digits per byte, nothing around them.
    public static func appendHexDigits(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
    }

    public static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        output.append(contentsOf: String(value).utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7).
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
