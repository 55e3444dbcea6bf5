"""Crash test with real processes: `petrel log append --fsync before-ack` is killed with SIGKILL
at random moments; after each kill the log must reopen with every acknowledged offset present
and byte-identical, offsets contiguous, and no invalid batch readable.

PETREL_LONG_TESTS=1 runs ten times as many kills."""
import json
import os
import random
import signal
import subprocess
import threading
import time

from conftest import run

KILLS = 500 if os.environ.get("PETREL_LONG_TESTS") else 50


LINES_PER_RUN = 20_000


def read_log(petrel, data_dir, from_offset=0):
    lines = run([petrel, "log", "read", "--data-dir", str(data_dir), "--topic", "crash", "--json",
                 "--from-offset", str(from_offset)]).decode().splitlines()
    return [json.loads(line) for line in lines]


def check(records, acknowledged, start, where):
    """Offsets from `start` are contiguous and every acknowledged one among them is identical."""
    assert [r["offset"] for r in records] == list(range(start, start + len(records))), f"{where}: offsets not contiguous"
    end = start + len(records)
    for offset, value in acknowledged.items():
        if offset >= start:
            assert offset < end, f"{where}: acknowledged offset {offset} lost (log ends at {end})"
            assert records[offset - start]["value"] == value, f"{where}: offset {offset} changed"


def test_sigkill_loses_nothing_acknowledged(petrel, tmp_path):
    seed = int(os.environ.get("PETREL_CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash test seed {seed} (replay with PETREL_CRASH_SEED={seed})")
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    acknowledged = {}  # offset -> value bytes (hex)
    log_end = 0
    mid_write_kills = 0
    for kill in range(KILLS):
        process = subprocess.Popen(
            [petrel, "log", "append", "--data-dir", str(data_dir), "--topic", "crash", "--fsync", "before-ack"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = []

        def feed():
            try:
                for line in range(LINES_PER_RUN):
                    value = f"kill{kill}-line{line}-" + "x" * rng.randrange(0, 100)
                    sent.append(value)
                    process.stdin.write(value.encode() + b"\n")
                    if line % 8 == 7:
                        # Paced, so that the kill lands while appends and fsyncs are under way.
                        process.stdin.flush()
                        time.sleep(0.0005)
            except (BrokenPipeError, ValueError, OSError):
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        acked = []

        def collect():
            for line in process.stdout:
                acked.append(int(line))

        collector = threading.Thread(target=collect, daemon=True)
        collector.start()
        # Kill at a random moment after the appender is under way (its first acknowledgement),
        # so that a slow start on a cold machine does not turn the kill into a no-op.
        started = time.monotonic()
        while not acked and time.monotonic() - started < 10:
            time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        collector.join(timeout=30)
        feeder.join(timeout=30)
        stderr = process.stderr.read().decode(errors="replace")
        assert process.returncode == -signal.SIGKILL, f"kill {kill}: exited {process.returncode} before the kill: {stderr}"
        for offset in acked:
            acknowledged[offset] = sent[offset - log_end].encode().hex()
        mid_write_kills += len(acked) < len(sent)

        # This run's records (acknowledged or merely written) must be exactly what was sent.
        records = read_log(petrel, data_dir, from_offset=log_end)
        check(records, acknowledged, log_end, f"kill {kill}")
        for record in records:
            assert record["value"] == sent[record["offset"] - log_end].encode().hex()
        log_end += len(records)

    check(read_log(petrel, data_dir), acknowledged, 0, "after all kills")
    # Every batch left on disk is valid.
    partition = data_dir / "crash-0"
    segments = sorted(str(p) for p in partition.glob("*.log"))
    run([petrel, "dump", *segments])
    assert len(acknowledged) > KILLS, "the test must have acknowledged records to check"
    print(f"{KILLS} kills, {mid_write_kills} with records sent but not acknowledged; {len(acknowledged)} acknowledged records checked")
    assert mid_write_kills > KILLS // 2, "most kills must land while appending"
