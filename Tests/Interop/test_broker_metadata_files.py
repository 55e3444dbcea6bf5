"""The broker's metadata store on disk: the `topics` file lists every topic with its id,
partition count, flags and config overrides; `petrel dump` prints it, `petrel fsck` checks it
with the broker's own parser, and a broker refuses to start on one it cannot parse."""
import subprocess

from kafka.admin import KafkaAdminClient, NewTopic

from broker import Broker
from conftest import run
from test_broker_hardening import fsck


def test_the_topics_file_is_dumped_checked_and_refused_when_damaged(petrel, tmp_path):
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        admin.create_topics([NewTopic("orders", num_partitions=3, replication_factor=1, topic_configs={"retention.ms": "86400000"})])
        admin.close()
        run(["kcat", "-P", "-b", broker.address, "-t", "auto", "-p", "0"], stdin=b"one\n")
    dumped = subprocess.run([petrel, "dump", str(data / "topics")], capture_output=True, timeout=30)
    assert dumped.returncode == 0, dumped.stderr.decode()
    lines = dumped.stdout.decode().splitlines()
    assert any("topic: orders" in line and "partitions: 3" in line and "retention.ms=86400000" in line for line in lines), lines
    assert any("topic: auto" in line and "state: live" in line for line in lines), lines
    code, out = fsck(petrel, data)
    assert code == 0, out

    original = (data / "topics").read_text()
    (data / "topics").write_text(original.replace("partitions=3", "partitions=three"))
    code, out = fsck(petrel, data)
    assert code == 4 and "broker-file-invalid" in out and "topics" in out, out
    done = subprocess.run([petrel, "broker", "--data-dir", str(data), "--listen", "127.0.0.1:0"], capture_output=True, timeout=30)
    assert done.returncode != 0 and "topics" in done.stderr.decode(), done.stderr.decode()
    assert "partitions=three" in (data / "topics").read_text(), "the file is left as it was"
