import PetrelClient
import Testing

/// Where each `reset-offsets` option moves a committed offset, clamped into the log's range as
/// Kafka's tool does.
@Suite struct OffsetResetStrategyTests {
    @Test func earliestAndLatestAreTheLogsEnds() {
        #expect(OffsetResetStrategy.earliest.target(committed: 40, logStart: 10, logEnd: 90) == 10)
        #expect(OffsetResetStrategy.latest.target(committed: 40, logStart: 10, logEnd: 90) == 90)
        #expect(OffsetResetStrategy.earliest.target(committed: nil, logStart: 0, logEnd: 0) == 0)
    }

    @Test func anOffsetIsClampedIntoTheLog() {
        #expect(OffsetResetStrategy.offset(50).target(committed: nil, logStart: 10, logEnd: 90) == 50)
        #expect(OffsetResetStrategy.offset(5).target(committed: nil, logStart: 10, logEnd: 90) == 10)
        #expect(OffsetResetStrategy.offset(500).target(committed: nil, logStart: 10, logEnd: 90) == 90)
    }

    @Test func aShiftMovesTheCommittedOffsetWithinTheLog() {
        #expect(OffsetResetStrategy.shiftBy(-5).target(committed: 40, logStart: 10, logEnd: 90) == 35)
        #expect(OffsetResetStrategy.shiftBy(-100).target(committed: 40, logStart: 10, logEnd: 90) == 10)
        #expect(OffsetResetStrategy.shiftBy(100).target(committed: 40, logStart: 10, logEnd: 90) == 90)
        #expect(OffsetResetStrategy.shiftBy(.max).target(committed: 40, logStart: 10, logEnd: 90) == 90)
        #expect(OffsetResetStrategy.shiftBy(.min).target(committed: 40, logStart: 10, logEnd: 90) == 10)
        #expect(OffsetResetStrategy.shiftBy(1).target(committed: nil, logStart: 10, logEnd: 90) == nil, "nothing to shift")
    }

    @Test func aTimeWithNoRecordAtOrAfterItIsTheLogEnd() {
        #expect(OffsetResetStrategy.datetime(milliseconds: 1_000).target(committed: 3, logStart: 0, logEnd: 90, offsetForTime: 42) == 42)
        #expect(OffsetResetStrategy.datetime(milliseconds: 1_000).target(committed: 3, logStart: 0, logEnd: 90, offsetForTime: nil) == 90)
    }
}
