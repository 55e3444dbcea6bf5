import Foundation
import PetrelFormat
import Testing

/// Feeds seeded corruptions of valid batches to the decoder: each must end in a typed error or
/// a valid decode. A crash fails the whole test process, so the seed is printed before each run.
@Suite struct MutationTests {
    static let variantsPerCodec = 20_000  // × 5 codecs = 100,000 variants

    @Test(arguments: CompressionCodec.allCases)
    func corruptedBatchesNeverCrash(codec: CompressionCodec) throws {
        let seed = ProcessInfo.processInfo.environment["PETREL_MUTATION_SEED"].flatMap(UInt64.init)
            ?? UInt64(codec.rawValue) &* 0x5DEECE66D &+ 11
        print("mutation test \(codec): seed \(seed) (replay with PETREL_MUTATION_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        let originals = try (0..<4).map { index in
            try buildBatch(sampleRecords(count: 1 + index * 7, seed: UInt64(index)), compression: codec)
        }
        let limits = DecodeLimits(batchBytesMax: 1 << 20, decompressedBytesMax: 1 << 20)
        var outcomes = (valid: 0, invalid: 0)
        for variant in 0..<Self.variantsPerCodec {
            var bytes = originals[variant % originals.count]
            mutate(&bytes, using: &rng)
            // Half the variants get a fresh CRC, so damage reaches the record and codec decoders.
            if Bool.random(using: &rng) { fixCRC(&bytes) }
            do {
                let records = try decodeBatch(bytes, limits: limits)
                #expect(records.count <= 64, "seed \(seed), variant \(variant): implausible record count")
                outcomes.valid += 1
            } catch is FormatError {
                outcomes.invalid += 1
            } catch {
                Issue.record("seed \(seed), variant \(variant): untyped error \(error)")
            }
        }
        print("mutation test \(codec): \(outcomes.valid) decoded, \(outcomes.invalid) rejected with a typed error")
        #expect(outcomes.valid + outcomes.invalid == Self.variantsPerCodec)
        #expect(outcomes.invalid > Self.variantsPerCodec / 2, "seed \(seed): most corruptions must be caught")
    }

    private func mutate(_ bytes: inout [UInt8], using rng: inout SeededGenerator) {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0, 1:  // flip 1–3 bits anywhere
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
        case 2:  // truncate
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
        case 3:  // edit the batch length, record count or lastOffsetDelta
            let field = [8, 57, 23].randomElement(using: &rng)!
            let value = [Int32(0), -1, 1, Int32.max, Int32.min, Int32.random(in: -100...100_000, using: &rng)]
                .randomElement(using: &rng)!
            bytes.replaceSubrange(field..<field + 4, with: withUnsafeBytes(of: value.bigEndian, Array.init))
        case 4:  // overwrite a byte in the records section (varints, lengths, compressed data)
            if bytes.count > RecordBatchLayout.headerBytes {
                bytes[Int.random(in: RecordBatchLayout.headerBytes..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        default:  // append garbage
            bytes += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
    }
}
