"""Regression tests for the hardening issue, against a real `petrel broker` process: each shows
a crash, wrong answer or unbounded resource found from outside, now fixed."""
import os
import signal
import socket
import subprocess
import time

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.protocol.consumer.fetch import FetchRequest, FetchResponse
from kafka.protocol.consumer.offsets import ListOffsetsRequest, ListOffsetsResponse
from kafka.protocol.metadata.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse
from kafka.protocol.admin.topics import CreatePartitionsRequest, CreatePartitionsResponse
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

from broker import Broker, free_port
from conftest import run
from raw_client import RawClient

INT32_MAX = 2**31 - 1


def fetch_request(topic, partitions, offset=0, max_bytes=INT32_MAX, max_wait_ms=0, min_bytes=1):
    t = FetchRequest.FetchTopic
    p = t.FetchPartition
    return FetchRequest[11](replica_id=-1, max_wait_ms=max_wait_ms, min_bytes=min_bytes, max_bytes=max_bytes, isolation_level=0,
                            session_id=0, session_epoch=-1, rack_id="", forgotten_topics_data=[],
                            topics=[t(topic=topic, partitions=[p(partition=i, current_leader_epoch=-1, fetch_offset=offset, log_start_offset=-1,
                                                                 partition_max_bytes=INT32_MAX) for i in partitions])])


def records(values, timestamps=None, base_timestamp=None):
    # Timestamps of now by default: retention and producer expiry judge records by them.
    base_timestamp = base_timestamp if base_timestamp is not None else int(time.time() * 1000)
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1, producer_epoch=-1,
                                        base_sequence=-1, batch_size=1 << 24)
    for i, value in enumerate(values):
        builder.append(i, timestamp=timestamps[i] if timestamps else base_timestamp + i, key=None, value=value, headers=[])
    return bytes(builder.build())


def produce_request(topic, data, acks=-1, partition=0):
    d = ProduceRequest.TopicProduceData
    return ProduceRequest[9](transactional_id=None, acks=acks, timeout_ms=5000,
                             topic_data=[d(name=topic, partition_data=[d.PartitionProduceData(index=partition, records=data)])])


def framed(request, correlation_id):
    request.with_header(correlation_id=correlation_id, client_id="raw")
    return request.encode(header=True, framed=True)


def produce(client, topic, data, partition=0):
    answer = client.call(produce_request(topic, data, partition=partition), ProduceResponse).responses[0].partition_responses[0]
    return answer.error_code, answer.base_offset


def test_a_fetch_naming_one_partition_a_thousand_times_is_answered_once_within_fetch_max_bytes(petrel, tmp_path):
    """Item 1: one 16 KB request naming a partition 1,000 times with 3 MB stored crashed the
    broker (a response past 2 GiB, Int32(...) of its size)."""
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port, timeout=30)
        for _ in range(3):
            assert produce(client, "big", records([b"x" * 1000] * 1000))[0] == 0
        response = client.call(fetch_request("big", [0] * 1000), FetchResponse, size_max=60 << 20)
        partitions = response.responses[0].partitions
        assert len(partitions) == 1, "a partition named again in one request is answered once"
        assert partitions[0].error_code == 0
        assert 0 < len(partitions[0].records) <= 57_671_680
        # The broker is still up and answers on a new connection.
        again = RawClient(broker.port)
        assert again.call(fetch_request("big", [0]), FetchResponse).responses[0].partitions[0].error_code == 0


def test_fetch_errors_carry_an_empty_record_set_and_librdkafka_resets_the_offset(petrel, tmp_path):
    """Item 7: OFFSET_OUT_OF_RANGE and UNKNOWN_TOPIC_OR_PARTITION came with null records;
    librdkafka rejected the partition ("invalid MessageSetSize -1") and fetched in a busy loop."""
    with Broker(petrel, tmp_path / "data") as broker:
        run(["kcat", "-P", "-b", broker.address, "-t", "five", "-p", "0"], stdin=b"a\nb\nc\nd\ne\n")
        client = RawClient(broker.port)
        out_of_range = client.call(fetch_request("five", [0], offset=100), FetchResponse).responses[0].partitions[0]
        assert out_of_range.error_code == 1 and out_of_range.records == b""
        unknown = client.call(fetch_request("five", [7]), FetchResponse).responses[0].partitions[0]
        assert unknown.error_code == 3 and unknown.records == b""
        # kcat applies auto.offset.reset (earliest) and reads the topic to its end.
        done = subprocess.run(["kcat", "-C", "-b", broker.address, "-t", "five", "-p", "0", "-o", "100", "-e",
                               "-X", "auto.offset.reset=earliest"], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert done.stdout.split() == [b"a", b"b", b"c", b"d", b"e"]


def metadata(client, names, version=10, **flags):
    topic = MetadataRequest.MetadataRequestTopic
    request = MetadataRequest[version](topics=[topic(topic_id=None, name=n) for n in names] if names is not None else None,
                                       allow_auto_topic_creation=True, include_topic_authorized_operations=flags.get("topic", False),
                                       include_cluster_authorized_operations=flags.get("cluster", False))
    return client.call(request, MetadataResponse)


def test_metadata_of_an_invalid_topic_name_is_invalid_topic_exception(petrel, tmp_path):
    """Item 8: an invalid name got UNKNOWN_TOPIC_OR_PARTITION (3); Kafka answers 17, on which
    librdkafka fails the messages at once."""
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        topics = metadata(client, ["bad name!", "x" * 250, "good"]).topics
        assert [(t.name, t.error_code) for t in topics] == [("bad name!", 17), ("x" * 250, 17), ("good", 0)]


def test_metadata_authorized_operations_are_every_supported_operation(petrel, tmp_path):
    """Item 11: with no authorizer every operation is allowed; INT32_MIN said "not asked"."""
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        response = metadata(client, ["ops"], version=10, topic=True, cluster=True)
        topic_ops = {3, 4, 5, 6, 7, 8, 10, 11}  # READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS
        cluster_ops = {5, 7, 8, 9, 10, 11, 12}  # CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE
        # kafka-python decodes the bit field into the set of AclOperation codes.
        assert set(response.topics[0].authorized_operations) == topic_ops
        assert set(response.authorized_operations) == cluster_ops
        plain = metadata(client, ["ops"], version=10)
        assert not plain.topics[0].authorized_operations, "not asked for: INT32_MIN, no operations"


def test_describe_configs_of_the_broker_lists_every_setting(petrel, tmp_path):
    """Item 11: DescribeConfigs returned five fixed settings; kafka-python's own test reads
    advertised.listeners. Requested names are honoured; a foreign broker id is an error."""
    port = free_port()
    with Broker(petrel, tmp_path / "data", port=port, extra_args=["--advertise", f"localhost:{port}"]) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        entries = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")], config_filter="all")["broker"]["1"]
        entries = {name: entry["value"] for name, entry in entries.items()}
        only = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1", configs={"num.partitions": None})],
                                      config_filter="all")["broker"]["1"]
        assert list(only) == ["num.partitions"], "requested names are honoured"
        everything = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")], config_filter="all")["broker"]["1"]
        assert everything["advertised.listeners"]["config_source"] == "STATIC_BROKER_CONFIG", "given on the command line"
        assert everything["message.max.bytes"]["config_source"] == "DEFAULT_CONFIG", "not given"
        assert entries["advertised.listeners"] == f"PLAINTEXT://localhost:{port}"
        for name in ["log.dirs", "num.partitions", "log.segment.bytes", "log.retention.ms", "message.max.bytes", "max.connections",
                     "connections.max.idle.ms", "queued.max.request.bytes", "fetch.max.bytes", "max.broker.partitions"]:
            assert name in entries, name
        admin.close()


def test_two_batches_for_one_partition_are_invalid_record(petrel, tmp_path):
    """Item 12: Kafka refuses a Produce v3+ partition carrying more than one batch (INVALID_RECORD)."""
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        assert produce(client, "one", records([b"a"])) == (0, 0)
        assert produce(client, "one", records([b"b"]) + records([b"c"]))[0] == 87
        assert produce(client, "one", b"")[0] == 87, "no batch at all is INVALID_RECORD too"
        assert produce(client, "one", records([b"d"])) == (0, 1), "nothing of the refused produce was written"


def test_produces_read_before_the_connection_closed_are_still_appended(petrel, tmp_path):
    """CI saw confluent-kafka lose 98 of 100 records with acks=0: the producer closes its
    connection right after its last send, and the broker dropped the requests it had read but
    not yet handled. Kafka handles them; so does Petrel now, dropping only the responses."""
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        assert produce(client, "closing", records([b"first"])) == (0, 0)
        frames = b"".join(framed(produce_request("closing", records([b"%d" % i]), acks=0), correlation_id=i) for i in range(1, 41))
        frames += framed(produce_request("closing", records([b"acknowledged"])), correlation_id=41)
        client.socket.sendall(frames)
        client.close()  # at once: nothing read back, not even the acks=-1 answer

        probe = RawClient(broker.port)
        deadline, end = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            end = list_offset(probe, "closing", -1)[1]
            if end >= 42:
                break
            time.sleep(0.1)
        assert end == 42, f"{42 - end} of 41 records sent before the close were dropped"
        answer = probe.call(fetch_request("closing", [0]), FetchResponse).responses[0].partitions[0]
        batches, values = MemoryRecords(answer.records), []
        while (batch := batches.next_batch()) is not None:
            values += [record.value for record in batch]
        assert values == [b"first"] + [b"%d" % i for i in range(1, 41)] + [b"acknowledged"], "appended in the order sent"


def list_offset(client, topic, timestamp):
    t = ListOffsetsRequest.ListOffsetsTopic
    request = ListOffsetsRequest[7](replica_id=-1, isolation_level=0, topics=[
        t(name=topic, partitions=[t.ListOffsetsPartition(partition_index=0, current_leader_epoch=-1, timestamp=timestamp)])])
    answer = client.call(request, ListOffsetsResponse).topics[0].partitions[0]
    return answer.error_code, answer.offset, answer.timestamp


def test_list_offsets_max_timestamp_and_ties(petrel, tmp_path):
    """Item 10: timestamp -3 (KIP-734) is the record with the largest timestamp; a timestamp
    several records share gives the first of them."""
    config = tmp_path / "broker.properties"
    config.write_text("log.index.interval.bytes=0\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)]) as broker:
        client = RawClient(broker.port)
        assert produce(client, "times", records([b"a", b"b", b"c"], timestamps=[1000, 1000, 1000]))[0] == 0
        assert produce(client, "times", records([b"d", b"e"], timestamps=[5000, 2000]))[0] == 0
        assert produce(client, "times", records([b"f"], timestamps=[3000]))[0] == 0
        assert list_offset(client, "times", 1000) == (0, 0, 1000), "the first offset of a tie"
        assert list_offset(client, "times", 1500) == (0, 3, 5000)
        assert list_offset(client, "times", -3) == (0, 3, 5000), "MAX_TIMESTAMP"
        assert list_offset(client, "times", -1)[:2] == (0, 6)


@pytest.mark.parametrize("setting", ["log.segment.bytes=12", "message.max.bytes=-1", "log.index.size.max.bytes=8", "num.partitions=-1",
                                     "num.partitions=0", "num.partitions=99999999999", "socket.request.max.bytes=-1"])
def test_bad_settings_stop_the_broker_at_start_naming_the_setting(petrel, tmp_path, setting):
    """Item 5: these were accepted and trapped later, or left clients timing out."""
    config = tmp_path / "broker.properties"
    config.write_text(setting + "\n")
    done = subprocess.run([petrel, "broker", "--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0", "--config", str(config)],
                          capture_output=True, timeout=30)
    assert done.returncode != 0 and done.returncode < 128, "an error exit, not a trap"
    assert setting.split("=")[0] in done.stderr.decode(), done.stderr.decode()


def test_sigterm_during_a_long_create_partitions_is_a_clean_shutdown(petrel, tmp_path):
    """Item 4: partitions went on being created after SIGTERM, the clean-shutdown marker was
    written with logs never closed, and fsck then reported ~2,000 errors."""
    data = tmp_path / "data"
    broker = Broker(petrel, data).start()
    client = RawClient(broker.port, timeout=60)
    admin = KafkaAdminClient(bootstrap_servers=broker.address)
    admin.create_topics([NewTopic("many", num_partitions=1, replication_factor=1)])
    admin.close()
    topic = CreatePartitionsRequest.CreatePartitionsTopic
    client.send(CreatePartitionsRequest[1](topics=[topic(name="many", count=1000, assignments=None)], timeout_ms=60000, validate_only=False))
    deadline = time.monotonic() + 30
    while len([n for n in os.listdir(data) if n.startswith("many-")]) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert broker.stop() == 0
    code, out = fsck(petrel, data)
    assert code == 0, out
    with Broker(petrel, data) as again:
        topics = metadata(RawClient(again.port), ["many"]).topics
        assert topics[0].error_code == 0


def fsck(petrel, path, *args):
    done = subprocess.run([petrel, "fsck", *args, str(path)], capture_output=True, timeout=120)
    return done.returncode, done.stdout.decode() + done.stderr.decode()


def test_fsck_repair_refuses_a_live_directory_and_log_read_writes_nothing(petrel, tmp_path):
    """Item 17: fsck --repair did not take the data directory's lock (it could SIGBUS a live
    broker); `petrel log read` opened the directory for writing."""
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        run(["kcat", "-P", "-b", broker.address, "-t", "live", "-p", "0"], stdin=b"one\ntwo\n")
        code, out = fsck(petrel, data, "--repair")
        assert code == 8 and f"process {broker.process.pid}" in out, out
        before = {name: os.stat(data / name).st_mtime_ns for name in os.listdir(data)}
        read = run([petrel, "log", "read", "--data-dir", str(data), "--topic", "live"]).decode()
        assert "value: one" in read and "value: two" in read
        assert {name: os.stat(data / name).st_mtime_ns for name in os.listdir(data)} == before, "log read wrote nothing"
        assert not (data / ".kafka_cleanshutdown").exists()


def test_fsck_says_a_directory_that_is_no_log_directory_is_not_one(petrel, tmp_path):
    """Item 27: fsck called /etc clean."""
    code, out = fsck(petrel, "/etc")
    assert code == 8 and "not a log directory" in out


def test_recovery_is_logged_and_a_damaged_meta_properties_is_refused(petrel, tmp_path):
    """Item 19: a start-up that cut a log logged nothing; a garbage meta.properties was
    replaced by a new cluster id."""
    data = tmp_path / "data"
    broker = Broker(petrel, data).start()
    run(["kcat", "-P", "-b", broker.address, "-t", "cut", "-p", "0"], stdin=b"".join(b"record %d\n" % i for i in range(100)))
    broker.kill()
    with open(data / "cut-0" / "00000000000000000000.log", "ab") as segment:
        segment.write(b"\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x30" + b"torn" * 20)
    broker = Broker(petrel, data).start()
    broker.stop()
    log = broker.process.stdout.read().decode(errors="replace")
    assert "recovery of cut-0 cut" in log and "they are kept in" in log, log
    (data / "meta.properties").write_text("garbage\n")
    done = subprocess.run([petrel, "broker", "--data-dir", str(data), "--listen", "127.0.0.1:0"], capture_output=True, timeout=30)
    assert done.returncode != 0 and "meta.properties" in done.stderr.decode(), done.stderr.decode()
    assert (data / "meta.properties").read_text() == "garbage\n"
    code, out = fsck(petrel, data)
    assert code == 4 and "broker-file-invalid" in out, out


def test_connection_limits_and_idle_connections(petrel, tmp_path):
    """Item 26: connections had no limit and no idle timeout."""
    config = tmp_path / "broker.properties"
    config.write_text("max.connections=3\nconnections.max.idle.ms=300\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)]) as broker:
        time.sleep(0.5)  # the readiness probe's connection is gone
        held = [socket.create_connection(("127.0.0.1", broker.port)) for _ in range(3)]
        refused = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
        assert refused.recv(1) == b"", "a connection past max.connections is closed at once"
        for connection in held:
            connection.settimeout(5)
            assert connection.recv(1) == b"", "an idle connection is closed after connections.max.idle.ms"


def test_request_bytes_queued_behind_a_parked_fetch_are_bounded(petrel, tmp_path):
    """Item 24: one connection reached 2 GB with frames queued behind a parked fetch. Reading
    stops once a connection has socket.request.max.bytes unanswered."""
    config = tmp_path / "broker.properties"
    config.write_text("socket.request.max.bytes=4194304\nmessage.max.bytes=4000000\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)]) as broker:
        client = RawClient(broker.port)
        assert produce(client, "parked", records([b"x"]))[0] == 0
        client.send(fetch_request("parked", [0], offset=1, max_wait_ms=10_000, min_bytes=1 << 20))
        frame = framed(produce_request("parked", records([b"y" * 3_500_000])), correlation_id=99)
        client.socket.setblocking(False)
        accepted, pending = 0, memoryview(b"")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and accepted < 200 * len(frame):
            if not pending:
                pending = memoryview(frame)
            try:
                sent = client.socket.send(pending)
                accepted += sent
                pending = pending[sent:]
            except BlockingIOError:
                time.sleep(0.05)
        assert accepted < 20 * len(frame), f"{accepted} bytes taken in behind a parked fetch"
        rss_kb = int([line for line in open(f"/proc/{broker.process.pid}/status") if line.startswith("VmRSS")][0].split()[1])
        assert rss_kb < 400_000, f"broker RSS {rss_kb} kB"


def test_create_topics_configs_are_validated_applied_and_kept(petrel, tmp_path):
    """Item 9: per-topic configs were neither validated nor applied. An unknown name is
    INVALID_CONFIG; compression.type=lz4 makes the broker store lz4 batches; retention.ms is
    applied; both are kept across a restart and shown by DescribeConfigs."""
    import json
    from kafka.errors import InvalidConfigurationError
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        with pytest.raises(InvalidConfigurationError):
            admin.create_topics([NewTopic("wrong", 1, 1, topic_configs={"retention.mss": "1"})], raise_errors=True)
        admin.create_topics([NewTopic("packed", 1, 1, topic_configs={"compression.type": "lz4", "retention.ms": "86400001"})])
        admin.close()
        producer = KafkaProducer(bootstrap_servers=broker.address, compression_type=None, linger_ms=50)
        for i in range(100):
            producer.send("packed", value=b"value %d " % i * 20)
        producer.flush(20)
        producer.close()
    batches = [json.loads(line) for line in run([petrel, "dump", "--json", "--records", str(data / "packed-0" / "00000000000000000000.log")]).decode().splitlines()]
    assert batches and {b["compression"] for b in batches} == {"lz4"}, "stored as the topic asks, not as the producer sent"
    assert [bytes.fromhex(r["value"]) for b in batches for r in b["records"]] == [b"value %d " % i * 20 for i in range(100)]
    with Broker(petrel, data) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        entries = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "packed")], config_filter="all")["topic"]["packed"]
        assert entries["compression.type"]["value"] == "lz4" and entries["retention.ms"]["value"] == "86400001"
        assert entries["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        admin.close()


def test_compression_type_uncompressed_is_accepted_and_stores_batches_uncompressed(petrel, tmp_path):
    """compression.type=uncompressed (Kafka's topic-level name for no codec) was refused as
    INVALID_CONFIG: the name mapped to no codec at all, the same answer as an unknown name."""
    import json
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        admin.create_topics([NewTopic("plain", 1, 1, topic_configs={"compression.type": "uncompressed"})], raise_errors=True)
        admin.close()
        producer = KafkaProducer(bootstrap_servers=broker.address, compression_type="gzip", linger_ms=50)
        for i in range(50):
            producer.send("plain", value=b"value %d " % i * 20)
        producer.flush(20)
        producer.close()
    batches = [json.loads(line) for line in run([petrel, "dump", "--json", "--records", str(data / "plain-0" / "00000000000000000000.log")]).decode().splitlines()]
    assert batches and {b["compression"] for b in batches} == {"none"}, "stored uncompressed, as the topic asks"
    assert [bytes.fromhex(r["value"]) for b in batches for r in b["records"]] == [b"value %d " % i * 20 for i in range(50)]


def test_a_fetch_that_storage_cannot_serve_is_kafka_storage_error(petrel, tmp_path):
    """Item 18: a read or open failure became "no data, no error", and the consumer stalled."""
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        client = RawClient(broker.port)
        assert produce(client, "lost", records([b"a", b"b"]))[0] == 0
        os.unlink(data / "lost-0" / "00000000000000000000.log")  # the broker's descriptors stay valid
        partition = client.call(fetch_request("lost", [0], max_wait_ms=5000), FetchResponse).responses[0].partitions[0]
        assert partition.error_code == 56 and partition.records == b""


@pytest.mark.parametrize("codec", [1, 2, 3, 4])
def test_a_damaged_compressed_batch_with_a_fresh_crc_is_corrupt_message(petrel, tmp_path, codec):
    """Found by the fuzz test: a byte changed inside the compressed records, with the batch CRC
    recomputed, was stored; consumers then failed on it. Records are decoded at produce, as
    Kafka's LogValidator does."""
    import struct
    from kafka.record.util import calc_crc32c
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False, producer_id=-1, producer_epoch=-1,
                                        base_sequence=-1, batch_size=1 << 20)
    now = int(time.time() * 1000)
    for i in range(50):
        builder.append(i, timestamp=now, key=None, value=b"compressible value %d " % i * 10, headers=[])
    damaged = bytearray(builder.build())
    damaged[len(damaged) // 2 + 30] ^= 0x5A
    damaged[17:21] = struct.pack(">I", calc_crc32c(bytes(damaged[21:])))
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        assert produce(client, "packed", records([b"first"])) == (0, 0)
        assert produce(client, "packed", bytes(damaged))[0] == 2, "CORRUPT_MESSAGE"
        assert produce(client, "packed", records([b"next"])) == (0, 1), "nothing of the damaged batch was stored"


def test_a_stray_file_named_like_a_partition_is_skipped_by_broker_and_fsck_alike(petrel, tmp_path):
    """Item 6: a regular file `zz-0` in the data directory stopped the broker from starting,
    while fsck called the directory clean. Both skip it and say so."""
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        run(["kcat", "-P", "-b", broker.address, "-t", "kept", "-p", "0"], stdin=b"one\n")
    (data / "zz-0").write_text("not a partition\n")
    broker = Broker(petrel, data).start()
    assert broker.stop() == 0
    assert "zz-0" in broker.process.stdout.read().decode(errors="replace")
    code, out = fsck(petrel, data)
    assert code == 0 and "zz-0" in out and "unknown-file" in out, out


def test_describe_configs_of_another_broker_id_is_an_error(petrel, tmp_path):
    """Item 11: a foreign broker id got this broker's settings."""
    from kafka.protocol.admin.configs import DescribeConfigsRequest, DescribeConfigsResponse
    with Broker(petrel, tmp_path / "data") as broker:
        client = RawClient(broker.port)
        resource = DescribeConfigsRequest.DescribeConfigsResource
        request = DescribeConfigsRequest[4](resources=[resource(resource_type=4, resource_name="7", configuration_keys=None),
                                                       resource(resource_type=4, resource_name="1", configuration_keys=["num.partitions"])],
                                            include_synonyms=False, include_documentation=False)
        results = client.call(request, DescribeConfigsResponse).results
        assert results[0].error_code == 42 and not results[0].configs
        assert results[1].error_code == 0 and [c.name for c in results[1].configs] == ["num.partitions"]


def test_fsck_knows_the_broker_files_and_dump_says_what_it_cannot_read(petrel, tmp_path):
    """Item 27: fsck warned about the broker's own producer-id-block; dump said "permission"
    for /dev/null and misreported directories."""
    from kafka import KafkaProducer as Producer
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        producer = Producer(bootstrap_servers=broker.address, enable_idempotence=True)
        producer.send("ids", b"x").get(timeout=20)
        producer.close()
    assert (data / "producer-id-block").exists()
    code, out = fsck(petrel, data)
    assert code == 0 and "unknown" not in out, out
    for path, expected in [("/dev/null", "not a regular file"), (str(tmp_path), "is a directory")]:
        done = subprocess.run([petrel, "dump", path], capture_output=True, timeout=30)
        assert done.returncode == 2 and expected in done.stderr.decode() and "permission" not in done.stderr.decode()


def test_a_list_offsets_that_storage_cannot_serve_is_kafka_storage_error(petrel, tmp_path):
    """Item 18: an I/O error in a timestamp lookup became "no such offset" (-1, no error)."""
    data = tmp_path / "data"
    config = tmp_path / "broker.properties"
    config.write_text("log.segment.bytes=1024\n")
    with Broker(petrel, data, extra_args=["--config", str(config)]) as broker:
        client = RawClient(broker.port)
        for i in range(10):
            assert produce(client, "gone", records([b"v" * 200], timestamps=[1000 + i]))[0] == 0
    segments = sorted(name for name in os.listdir(data / "gone-0") if name.endswith(".log"))
    assert len(segments) > 2
    # A clean restart opens sealed segments lazily; the first one's files are then gone.
    with Broker(petrel, data, extra_args=["--config", str(config)]) as broker:
        for suffix in (".log", ".index", ".timeindex"):
            os.unlink(data / "gone-0" / segments[0].replace(".log", suffix))
        error, offset, _ = list_offset(RawClient(broker.port), "gone", 1000)
        assert error == 56, (error, offset)
