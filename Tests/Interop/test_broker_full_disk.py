"""The broker on a full disk (a small ext4 image loop-mounted by the test): producers get
KAFKA_STORAGE_ERROR, the broker stays up, nothing acknowledged is lost, appends resume once
space is back, and fsck calls the directory clean. Skipped, with the reason, where the machine
does not allow mounting."""
import errno
import os
import subprocess

import pytest
from kafka.protocol.consumer.fetch import FetchResponse

from broker import Broker
from raw_client import RawClient
from test_broker_hardening import fetch_request, produce, records

IMAGE_BYTES = 48 << 20


@pytest.fixture(params=["ext4", "tmpfs"])
def small_filesystem(tmp_path, request):
    if os.geteuid() != 0:
        pytest.skip("mounting a loop image needs root")
    image, mount = tmp_path / "disk.ext4", tmp_path / "disk"
    mount.mkdir()
    if request.param == "tmpfs":
        # tmpfs allocates a page on first store: a store through a mapping into a page it
        # cannot allocate is a SIGBUS, the fault the index files must never take.
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={IMAGE_BYTES}", "tmpfs", str(mount)], capture_output=True)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a size-limited tmpfs here: {mounted.stderr.decode(errors='replace')}")
        try:
            yield mount
        finally:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        return
    with open(image, "wb") as file:
        file.truncate(IMAGE_BYTES)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True)
    mounted = made.returncode == 0 and subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True).returncode == 0
    if not mounted:
        pytest.skip(f"cannot make or loop-mount an ext4 image here: {made.stderr.decode(errors='replace')}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(path, keep_free_bytes):
    """Writes a ballast file until the filesystem has about `keep_free_bytes` left."""
    stat = os.statvfs(path.parent)
    target = stat.f_bavail * stat.f_frsize - keep_free_bytes
    chunk = b"\0" * (1 << 20)
    with open(path, "wb") as ballast:
        written = 0
        while written + len(chunk) <= target:
            try:
                ballast.write(chunk)
                ballast.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC
                break
            written += len(chunk)
        os.fsync(ballast.fileno())


def consume_all(port, topic):
    client = RawClient(port)
    values, offset = [], 0
    while True:
        partition = client.call(fetch_request(topic, [0], offset=offset, max_bytes=1 << 20), FetchResponse).responses[0].partitions[0]
        assert partition.error_code == 0, partition
        if not partition.records:
            return values
        from kafka.record.memory_records import MemoryRecords
        batches = MemoryRecords(partition.records)
        while (batch := batches.next_batch()) is not None:
            for record in batch:
                if record.offset >= offset:
                    values.append(record.value)
                    offset = record.offset + 1


def test_a_full_disk_refuses_appends_loses_nothing_and_recovers(petrel, small_filesystem):
    data = small_filesystem / "data"
    ballast = small_filesystem / "ballast"
    config = small_filesystem.parent / "broker.properties"
    # Small segments and an index entry per batch: the disk fills while index pages and new
    # segments' index files are being written, where a store into an unallocated mapped page
    # would be a SIGBUS.
    config.write_text("log.segment.bytes=4096\nlog.index.size.max.bytes=65536\nlog.index.interval.bytes=0\n")
    broker = Broker(petrel, data, extra_args=["--config", str(config)]).start()
    try:
        client = RawClient(broker.port, timeout=30)
        acknowledged, codes = [], []
        sequence = 0

        def send():
            nonlocal sequence
            values = [b"%08d:" % (sequence + i) + b"v" * 1000 for i in range(2)]
            sequence += 2
            code, _ = produce(client, "full", records(values))
            codes.append(code)
            if code == 0:
                acknowledged.extend(values)
            return code

        assert send() == 0
        fill(ballast, keep_free_bytes=256 << 10)
        while codes.count(56) < 5 and len(codes) < 20_000:
            assert send() in (0, 56), codes[-5:]
        assert codes.count(56) >= 5, "a full disk is KAFKA_STORAGE_ERROR"
        assert broker.process.poll() is None, "the broker is still up"
        os.unlink(ballast)
        resumed = [send() for _ in range(20)]
        assert resumed[-1] == 0 and resumed.count(0) >= 10, f"appends resume once space is back: {resumed}"
        assert broker.stop() == 0
    finally:
        broker.kill()
    done = subprocess.run([petrel, "fsck", str(data)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    with Broker(petrel, data, extra_args=["--config", str(config)]) as again:
        assert consume_all(again.port, "full") == acknowledged, "every acknowledged record, once, in order"
