"""Cross-checks Petrel's RecordBatch v2 codec against kafka-python's own record code.

kafka-python (PyPI) has an independent implementation of the format and of every codec's
framing, so agreement in both directions is evidence that Petrel writes and reads what Kafka
clients do.
"""
import json

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from conftest import run

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
BASE_TS = 1_700_000_000_000


def record_sets():
    """Record sets with and without keys, headers and null values; values compress well, so
    kafka-python keeps the codec (it falls back to none when compression does not pay)."""
    plain = [(None, b"value-%d " % i * 20, [], BASE_TS + i) for i in range(50)]
    keyed = [(b"key-%d" % (i % 7), b"payload %d " % i * 30, [], BASE_TS + i * 3) for i in range(80)]
    with_headers = [
        (b"k%d" % i if i % 2 else None,
         None if i % 5 == 0 else b"abc" * (i + 10),
         [("trace-id", b"%08d" % i), ("empty", b""), ("null", None)] if i % 3 == 0 else [],
         BASE_TS - i)
        for i in range(60)
    ]
    empty_values = [(b"", b"", [("h", b"")], BASE_TS) for _ in range(40)]
    return {"plain": plain, "keyed": keyed, "headers": with_headers, "empty": empty_values}


def kafka_python_batch(records, codec, base_offset=0):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=CODECS[codec], is_transactional=False,
        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 24)
    for offset, (key, value, headers, ts) in enumerate(records):
        assert builder.append(offset, timestamp=ts, key=key, value=value, headers=headers) is not None
    data = bytearray(builder.build())
    data[0:8] = base_offset.to_bytes(8, "big", signed=True)  # baseOffset is outside the CRC
    return bytes(data)


def expected_json(records, base_offset=0):
    return [
        {
            "offset": base_offset + i,
            "timestamp": ts,
            "key": None if key is None else key.hex(),
            "value": None if value is None else value.hex(),
            "headers": [{"key": k, "value": None if v is None else v.hex()} for k, v in headers],
        }
        for i, (key, value, headers, ts) in enumerate(records)
    ]


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("name", list(record_sets()))
def test_petrel_reads_kafka_python_batches(petrel, tmp_path, codec, name):
    records = record_sets()[name]
    batch = kafka_python_batch(records, codec)
    assert DefaultRecordBatch(bytearray(batch)).compression_type == CODECS[codec], "kafka-python kept the codec"
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(batch)
    lines = run([petrel, "dump", "--records", "--json", str(path)]).decode().splitlines()
    assert len(lines) == 1
    dumped = json.loads(lines[0])
    assert dumped["compression"] == codec
    assert dumped["recordsCount"] == len(records)
    assert dumped["records"] == expected_json(records)


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("name", list(record_sets()))
def test_kafka_python_reads_petrel_batches(petrel, codec, name):
    records = record_sets()[name]
    lines = "".join(
        json.dumps({
            "key": None if key is None else key.hex(),
            "value": None if value is None else value.hex(),
            "timestamp": ts,
            "headers": [{"key": k, "value": None if v is None else v.hex()} for k, v in headers],
        }) + "\n"
        for key, value, headers, ts in records
    )
    batch_bytes = run([petrel, "batch", "build", "--compression", codec], stdin=lines.encode())
    batch = DefaultRecordBatch(bytearray(batch_bytes))
    assert batch.validate_crc(), "kafka-python's CRC32C check must pass"
    assert batch.compression_type == CODECS[codec]
    assert batch.size_in_bytes == len(batch_bytes)
    decoded = [(r.key, r.value, [(k, v) for k, v in r.headers], r.timestamp) for r in batch]
    assert [r.offset for r in DefaultRecordBatch(bytearray(batch_bytes))] == list(range(len(records)))
    assert decoded == [(k, v, list(h), ts) for k, v, h, ts in records]


def test_petrel_walks_a_segment_of_kafka_python_batches(petrel, tmp_path):
    """Batches of every codec laid end to end, as in a .log segment, with assigned offsets."""
    segment = b""
    expected = []
    offset = 0
    for codec in CODECS:
        records = record_sets()["keyed"][:10]
        segment += kafka_python_batch(records, codec, base_offset=offset)
        expected.append((offset, codec, expected_json(records, base_offset=offset)))
        offset += len(records)
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(segment)
    lines = run([petrel, "dump", "--records", "--json", str(path)]).decode().splitlines()
    got = [(b["baseOffset"], b["compression"], b["records"]) for b in map(json.loads, lines)]
    assert got == expected


def test_petrel_reports_a_corrupted_kafka_python_batch(petrel, tmp_path):
    batch = bytearray(kafka_python_batch(record_sets()["plain"], "lz4"))
    batch[-3] ^= 0x10
    path = tmp_path / "damaged.log"
    path.write_bytes(bytes(batch))
    import subprocess
    done = subprocess.run([petrel, "dump", "--json", str(path)], capture_output=True, timeout=60)
    assert done.returncode == 1
    report = json.loads(done.stdout.decode().splitlines()[-1])
    assert report["position"] == 17 and "CRC32C mismatch" in report["error"]
