"""Crash test of the log cleaner with real processes: `petrel log compact` is killed with SIGKILL
at every step of the swap protocol (PETREL_CLEANER_KILL_AT) and at random moments. After each
kill the directory is reopened (which finishes or rolls back the swap); fsck must call it clean,
and the log must hold every record a correct compaction keeps: the latest record of every key,
each at its original offset and unchanged, offsets increasing, and nothing that was never written.

PETREL_LONG_TESTS=1 runs ten times as many random kills."""
import json
import os
import random
import signal
import subprocess
import time

from conftest import run

RANDOM_KILLS = 500 if os.environ.get("PETREL_LONG_TESTS") else 50
STEPS = ["offset-map-built", "cleaned-written", "log-renamed-to-swap", "swap-written", "replaced-segments-deleted", "swap-renamed"]
KEYS = 6_000
SEGMENT_BYTES = 32_768
# Far from the passes' clock: tombstones stay, so every key's latest record must be there.
NOW_MS = 1_000


class History:
    """What was appended: offset -> (key, value or None), and each key's latest offset."""

    def __init__(self):
        self.by_offset = {}
        self.latest = {}

    def append(self, petrel, data_dir, rng, lines):
        records = []
        for _ in range(lines):
            key = f"key-{rng.randrange(KEYS)}"
            value = None if rng.randrange(10) == 0 else f"v{rng.randrange(1 << 30)}-" + "x" * rng.randrange(100, 400)
            records.append((key, value))
        text = "".join(f"{key}={'DEL' if value is None else value}\n" for key, value in records)
        offsets = run([petrel, "log", "append", "--data-dir", str(data_dir), "--topic", "compacted", "--key-separator", "=",
                       "--tombstone-value", "DEL", "--segment-bytes", str(SEGMENT_BYTES), "--fsync", "none",
                       "--batch-records", "50"], stdin=text.encode()).decode().split()
        assert len(offsets) == len(records)
        for offset, record in zip(map(int, offsets), records):
            self.by_offset[offset] = record
            self.latest[record[0]] = offset


def compact(petrel, data_dir, *extra, env=None):
    return subprocess.Popen([petrel, "log", "compact", "--data-dir", str(data_dir), "--topic", "compacted",
                             "--segment-bytes", str(SEGMENT_BYTES), "--dedupe-buffer-size", str(1 << 20), "--now-ms", str(NOW_MS), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def leftovers(data_dir):
    return sorted(p.name for p in (data_dir / "compacted-0").iterdir() if p.suffix in (".cleaned", ".swap", ".deleted"))


def reopen_and_check(petrel, data_dir, history, where):
    # Opening the directory finishes or rolls back what the kill left.
    done = compact(petrel, data_dir, "--max-passes", "0")
    assert done.wait(timeout=120) == 0, f"{where}: reopening failed: {done.stderr.read().decode(errors='replace')}"
    assert leftovers(data_dir) == [], f"{where}: reopening left {leftovers(data_dir)}"
    run([petrel, "fsck", str(data_dir)])  # exits non-zero on any error
    lines = run([petrel, "log", "read", "--data-dir", str(data_dir), "--topic", "compacted", "--json"]).decode().splitlines()
    records = [json.loads(line) for line in lines]
    offsets = [r["offset"] for r in records]
    assert offsets == sorted(set(offsets)), f"{where}: offsets not strictly increasing"
    for record in records:
        key, value = history.by_offset.get(record["offset"], (None, None))
        assert key is not None, f"{where}: offset {record['offset']} was never written"
        assert bytes.fromhex(record["key"]).decode() == key, f"{where}: offset {record['offset']} changed its key"
        expected = None if value is None else value.encode().hex()
        assert record["value"] == expected, f"{where}: offset {record['offset']} changed its value"
    present = set(offsets)
    missing = [offset for offset in history.latest.values() if offset not in present]
    assert missing == [], f"{where}: the latest records at {missing[:5]} are gone"
    return len(records)


def test_sigkill_at_each_swap_step_and_at_random_loses_nothing(petrel, tmp_path):
    seed = int(os.environ.get("PETREL_CRASH_SEED", random.randrange(1 << 30)))
    print(f"compaction crash test seed {seed} (replay with PETREL_CRASH_SEED={seed})")
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    history = History()
    history.append(petrel, data_dir, rng, 30_000)
    written = len(history.by_offset)

    # One kill at each step of the swap protocol.
    for step in STEPS:
        history.append(petrel, data_dir, rng, 500)
        process = compact(petrel, data_dir, env={**os.environ, "PETREL_CLEANER_KILL_AT": step})
        assert process.wait(timeout=120) == -signal.SIGKILL, f"{step}: the pass never reached the step"
        left = leftovers(data_dir)
        reopen_and_check(petrel, data_dir, history, f"killed at {step} (left {left})")

    # How long a run like the ones killed below takes here (300 new records, then a pass over the
    # whole log), to aim the random kills inside one, past most of its start-up.
    assert compact(petrel, data_dir).wait(timeout=120) == 0
    history.append(petrel, data_dir, rng, 300)
    started = time.monotonic()
    assert compact(petrel, data_dir).wait(timeout=120) == 0
    duration = time.monotonic() - started

    mid_swap = 0
    mid_pass = 0
    for kill in range(RANDOM_KILLS):
        history.append(petrel, data_dir, rng, 300)
        process = compact(petrel, data_dir)
        time.sleep(rng.uniform(0.2 * duration, 0.9 * duration))
        process.send_signal(signal.SIGKILL)
        if process.wait(timeout=120) == -signal.SIGKILL:
            mid_pass += 1
        if leftovers(data_dir):
            mid_swap += 1
        kept = reopen_and_check(petrel, data_dir, history, f"random kill {kill}")
    written = len(history.by_offset)
    print(f"{len(STEPS)} kills at steps, {RANDOM_KILLS} random kills ({mid_pass} before the pass ended, {mid_swap} leaving "
          f"files to finish or roll back); a pass took {duration:.2f} s; {written} records written, {kept} kept")
    assert kept < written / 2, "compaction must have removed the records it could"
    assert mid_pass > RANDOM_KILLS // 2, "most random kills must land while compacting"
