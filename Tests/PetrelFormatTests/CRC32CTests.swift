import CCRC32C
import PetrelFormat
import Testing

@Suite struct CRC32CTests {
    /// Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" vector.
    @Test(arguments: [
        (Array("123456789".utf8), UInt32(0xE306_9283)),
        ([UInt8](repeating: 0, count: 32), UInt32(0x8A91_36AA)),
        ([UInt8](repeating: 0xFF, count: 32), UInt32(0x62A8_AB43)),
        ((0..<32).map { UInt8($0) }, UInt32(0x46DD_794E)),
        ((0..<32).map { UInt8(31 - $0) }, UInt32(0x113F_DB5C)),
        ([], UInt32(0)),
    ])
    func standardVectors(input: [UInt8], expected: UInt32) {
        input.withUnsafeBytes { bytes in
            #expect(ccrc32c_extend(0, bytes.baseAddress, bytes.count) == expected)
            #expect(ccrc32c_extend_software(0, bytes.baseAddress, bytes.count) == expected)
            if ccrc32c_hardware_available() != 0 {
                #expect(ccrc32c_extend_hardware(0, bytes.baseAddress, bytes.count) == expected)
            }
        }
        #expect(CRC32C.checksum(input) == expected)
    }

    @Test func hardwareAndSoftwareAgreeOnEveryLengthAndAlignment() throws {
        try #require(ccrc32c_hardware_available() != 0, "this CPU has no SSE4.2; only the software path runs")
        var rng = SeededGenerator(seed: 0xC0FFEE)
        let data = (0..<(4096 + 8)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { bytes in
            for length in 0...4096 {
                for start in 0..<8 {
                    let base = bytes.baseAddress! + start
                    let hardware = ccrc32c_extend_hardware(0x1234_5678, base, length)
                    let software = ccrc32c_extend_software(0x1234_5678, base, length)
                    if hardware != software {
                        Issue.record("length \(length) at alignment \(start): hardware \(hardware) != software \(software)")
                        return
                    }
                }
            }
        }
    }

    /// The three-stream path only runs on inputs of 6 KiB and more: check lengths around its edges.
    @Test(arguments: [6143, 6144, 6145, 12_288, 12_295, 100_003, 1 << 20])
    func interleavedPathMatchesSoftware(length: Int) throws {
        var rng = SeededGenerator(seed: UInt64(length))
        let data = (0..<(length + 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { bytes in
            for start in 0..<3 {
                let expected = ccrc32c_extend_software(0, bytes.baseAddress! + start, length)
                #expect(ccrc32c_extend(0, bytes.baseAddress! + start, length) == expected)
            }
        }
    }

    @Test func extendingEqualsOneShot() {
        let data = Array("The quick brown fox jumps over the lazy dog, again and again.".utf8)
        data.withUnsafeBytes { bytes in
            let whole = CRC32C.checksum(bytes)
            for split in 0...bytes.count {
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<split]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[split...]), continuing: first) == whole)
            }
        }
    }
}
