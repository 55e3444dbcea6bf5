"""The broker with kcat (librdkafka from Debian), a client nobody here wrote: metadata, produce
and consume with keys and headers and each codec, a restart that keeps everything, and garbage
from a raw socket that leaves the broker serving others."""
import json
import os
import socket
import struct
import subprocess

import pytest

from broker import Broker


def kcat(*args, stdin=b"", timeout=30):
    done = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"kcat {args} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode()


def consume(address, topic, count):
    out = kcat("-b", address, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count), "-e", "-J")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_produce_and_consume_with_keys_headers_and_codecs(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data") as broker:
        lines = "".join(f"key-{i}:value {i} " + "x" * (i % 50) + "\n" for i in range(200))
        kcat("-b", broker.address, "-P", "-t", "orders", "-K:", "-H", "trace=abc", "-H", "empty=", stdin=lines.encode())
        records = consume(broker.address, "orders", 200)
        assert [r["offset"] for r in records] == list(range(200))
        assert [r["key"] for r in records] == [f"key-{i}" for i in range(200)]
        assert records[7]["payload"] == "value 7 " + "x" * 7
        assert records[0]["headers"] == ["trace", "abc", "empty", ""]

        for codec in ("gzip", "lz4", "zstd", "snappy"):
            value = codec + ("-abc" * 400)
            kcat("-b", broker.address, "-P", "-t", f"codec-{codec}", "-K:", "-z", codec, stdin=f"k:{value}\n".encode())
            got = consume(broker.address, f"codec-{codec}", 1)
            assert got[0]["key"] == "k" and got[0]["payload"] == value, codec

        listing = json.loads(kcat("-b", broker.address, "-L", "-J"))
        names = {t["topic"] for t in listing["topics"]}
        assert {"orders", "codec-gzip", "codec-zstd"} <= names
        assert listing["brokers"][0]["id"] == 1

    # Codecs are stored as the producer compressed them (kcat 2.0.2 only applies lz4 when the
    # broker offers group coordination, which this broker does not yet).
    for codec in ("gzip", "zstd", "snappy"):
        dump = subprocess.run([petrel, "dump", str(tmp_path / "data" / f"codec-{codec}-0" / "00000000000000000000.log")],
                              capture_output=True, timeout=30).stdout.decode()
        assert f"compresscodec: {codec}" in dump


def test_restart_keeps_every_acknowledged_record(petrel, tmp_path):
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        kcat("-b", broker.address, "-P", "-t", "durable", "-K:", stdin="".join(f"k{i}:v{i}\n" for i in range(500)).encode())
    assert (data / ".kafka_cleanshutdown").exists()
    with Broker(petrel, data) as broker:
        records = consume(broker.address, "durable", 500)
        assert [r["payload"] for r in records] == [f"v{i}" for i in range(500)]
        kcat("-b", broker.address, "-P", "-t", "durable", "-K:", stdin=b"late:one\n")
        assert consume(broker.address, "durable", 501)[-1]["offset"] == 500


def test_garbage_frames_close_only_their_connection(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data") as broker:
        kcat("-b", broker.address, "-P", "-t", "steady", stdin=b"before\n")
        frames = [
            b"\xff\xff\xff\xff",                                  # negative size
            struct.pack(">i", 1 << 30) + b"x" * 16,               # oversized
            struct.pack(">i", 6) + b"\x00\x12\x00",               # truncated header, then close
            struct.pack(">i", 12) + os.urandom(12),               # random bytes
            struct.pack(">i", 10) + struct.pack(">hhih", 999, 0, 1, -1),  # unknown API key
        ]
        for frame in frames:
            with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as raw:
                raw.sendall(frame)
                raw.settimeout(2)
                try:
                    raw.recv(100)
                except (socket.timeout, ConnectionResetError):
                    pass
        kcat("-b", broker.address, "-P", "-t", "steady", stdin=b"after\n")
        assert [r["payload"] for r in consume(broker.address, "steady", 2)] == ["before", "after"]


def test_thousands_of_idle_connections(petrel, tmp_path):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(2000, soft - 100)
    with Broker(petrel, tmp_path / "data") as broker:
        idle = []
        try:
            for _ in range(count):
                idle.append(socket.create_connection(("127.0.0.1", broker.port), timeout=5))
            kcat("-b", broker.address, "-P", "-t", "busy", stdin=b"still serving\n")
            assert [r["payload"] for r in consume(broker.address, "busy", 1)] == ["still serving"]
        finally:
            for connection in idle:
                connection.close()
    assert count >= 1000, "the test needs room for a thousand descriptors"
