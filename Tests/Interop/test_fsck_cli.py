"""petrel fsck as operators and scripts use it: exit codes as fsck(8), --json, --dry-run, and a
repair killed half-way that is run again and finishes."""
import json
import subprocess

from conftest import run


def make_log_dir(petrel, tmp_path, lines=2000):
    data = tmp_path / "data"
    run([petrel, "log", "append", "--data-dir", str(data), "--topic", "orders", "--batch-records", "50"],
        stdin="".join(f"order {i} {'x' * (i % 40)}\n" for i in range(lines)).encode())
    return data


def fsck(petrel, *args, env=None):
    done = subprocess.run([petrel, "fsck", *args], capture_output=True, timeout=120, env=env)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def damage(path, at, xor=0x20):
    data = bytearray(path.read_bytes())
    data[at] ^= xor
    path.write_bytes(bytes(data))


def test_exit_codes_follow_fsck(petrel, tmp_path):
    data = make_log_dir(petrel, tmp_path)
    assert fsck(petrel, str(data))[0] == 0
    segment = data / "orders-0" / "00000000000000000000.log"
    damage(segment, 5000)
    code, out, _ = fsck(petrel, str(data))
    assert code == 4 and "invalid-batch" in out
    code, out, _ = fsck(petrel, "--repair", "--dry-run", str(data))
    assert code == 4 and "would cut" in out
    assert fsck(petrel, "--repair", str(data))[0] == 1
    assert fsck(petrel, str(data))[0] == 0
    assert fsck(petrel, "--repair", str(data))[0] == 0, "repairing a repaired directory changes nothing"
    assert fsck(petrel, str(tmp_path / "missing"))[0] == 8
    assert fsck(petrel, "--no-such-flag", str(data))[0] == 16


def test_json_report_names_file_position_and_offset(petrel, tmp_path):
    data = make_log_dir(petrel, tmp_path)
    segment = data / "orders-0" / "00000000000000000000.log"
    size = segment.stat().st_size
    segment.write_bytes(segment.read_bytes() + b"\0" * 1000)
    code, out, _ = fsck(petrel, "--json", str(data))
    report = json.loads(out)
    assert code == 4 and report["exitCode"] == 4
    finding = next(f for f in report["findings"] if f["kind"] == "zero-filled-tail")
    assert finding["file"] == str(segment) and finding["position"] == size and finding["severity"] == "error"
    assert report["summary"]["errors"] >= 1


def test_a_repair_killed_half_way_finishes_when_run_again(petrel, tmp_path):
    data = make_log_dir(petrel, tmp_path)
    partition = data / "orders-0"
    damage(partition / "00000000000000000000.log", 3000)
    (partition / "00000000000000000000.index").unlink()
    (partition / "00000000000000000099.log.cleaned").write_bytes(b"left over")
    env = {"PETREL_FSCK_CRASH_AFTER_STEPS": "1", "PATH": "/usr/bin:/bin"}
    code, _, _ = fsck(petrel, "--repair", str(data), env=env)
    assert code == 9, "the test hook kills the repair after its first step"
    assert (data / "petrel-quarantine" / "repair-journal.json").exists()
    code, out, _ = fsck(petrel, "--repair", str(data))
    assert code == 1, out
    assert "interrupted repair" in out
    assert fsck(petrel, str(data))[0] == 0
    assert not (data / "petrel-quarantine" / "repair-journal.json").exists()
    manifest = [json.loads(line) for line in (data / "petrel-quarantine" / "MANIFEST.jsonl").read_text().splitlines()]
    assert any(entry["source"].endswith(".log.cleaned") for entry in manifest)
    assert any(entry["source"].endswith("00000000000000000000.log") and entry["bytes"] > 0 for entry in manifest)
    # The repaired log reads, and the engine opens it.
    run([petrel, "log", "read", "--data-dir", str(data), "--topic", "orders"])


def test_dump_reads_indexes_checkpoints_and_verifies_an_index(petrel, tmp_path):
    data = make_log_dir(petrel, tmp_path, lines=3000)
    partition = data / "orders-0"
    entries = [json.loads(line) for line in run([petrel, "dump", "--json", str(partition / "00000000000000000000.index")]).decode().splitlines()]
    assert entries and all(set(e) == {"file", "offset", "position"} for e in entries)
    assert [e["offset"] for e in entries] == sorted(e["offset"] for e in entries)
    times = [json.loads(line) for line in run([petrel, "dump", "--json", str(partition / "00000000000000000000.timeindex")]).decode().splitlines()]
    assert times and all("timestamp" in t for t in times)
    out = run([petrel, "dump", "--verify-index", str(partition / "00000000000000000000.log")]).decode()
    assert "indexes agree with the log" in out
    checkpoint = run([petrel, "dump", str(data / "recovery-point-offset-checkpoint")]).decode()
    assert "orders 0 3000" in checkpoint and "error" not in checkpoint
    metadata = run([petrel, "dump", str(partition / "partition.metadata")]).decode()
    assert "topic_id: " in metadata and "error" not in metadata
    # An index entry pointing inside a batch is reported, and the exit status says so.
    index = partition / "00000000000000000000.index"
    raw = bytearray(index.read_bytes())
    raw[7] ^= 0x01
    index.write_bytes(bytes(raw))
    done = subprocess.run([petrel, "dump", "--verify-index", str(partition / "00000000000000000000.log")], capture_output=True, timeout=60)
    assert done.returncode == 1 and b"index-entry-invalid" in done.stdout


def test_dump_flags_checkpoints_and_snapshots_the_engine_would_refuse(petrel, tmp_path):
    data = make_log_dir(petrel, tmp_path, lines=500)
    checkpoint = data / "log-start-offset-checkpoint"
    checkpoint.write_text("0\n1\norders 0 not-an-offset\n")
    done = subprocess.run([petrel, "dump", str(checkpoint)], capture_output=True, timeout=60)
    assert done.returncode == 1
    assert b"text: orders 0 not-an-offset" in done.stdout and b"malformed entry on line 3" in done.stdout
    snapshots = sorted((data / "orders-0").glob("*.snapshot"))
    assert snapshots, "a clean close writes a producer snapshot"
    assert subprocess.run([petrel, "dump", str(snapshots[-1])], capture_output=True, timeout=60).returncode == 0
    damage(snapshots[-1], 7)
    done = subprocess.run([petrel, "dump", "--json", str(snapshots[-1])], capture_output=True, timeout=60)
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert lines[0]["crcValid"] is False and "CRC32C mismatch" in lines[-1]["error"]
