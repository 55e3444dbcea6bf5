"""Heartbeat-like requests keep answering while the broker does slow storage work.

Issue 10: blocking storage calls ran on the Swift cooperative pool (two threads on a two-core
machine), so a topic creation (directories, files, fsyncs) stalled every other request. Here
producers saturate a partition under fsync-before-acknowledge while topics of many partitions
are created and deleted, and a probe on its own connection sends ApiVersions and Metadata
(what a client's heartbeat and metadata refresh look like) and times each answer.
"""
import statistics
import threading
import time

from kafka.protocol.admin.topics import CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse

from broker import Broker
from raw_client import RawClient
from test_broker_hardening import metadata, produce, records

DURATION_S = 8
# The longest a probe may wait for an answer. A stalled broker answers after a whole topic
# creation (seconds here); a broker that keeps storage work off the request path answers in
# milliseconds even on a loaded two-core machine.
PROBE_LATENCY_MAX_S = 0.5
PARTITIONS_PER_TOPIC = 200
CREATORS = 2
PRODUCERS = 3


class Load:
    def __init__(self):
        self.stop = threading.Event()
        self.errors = []
        self.acknowledged = 0
        self.topics_created = 0
        self.lock = threading.Lock()

    def run(self, target, *args):
        def guarded():
            try:
                target(*args)
            except Exception as error:  # noqa: BLE001 — reported by the test
                with self.lock:
                    self.errors.append(repr(error))
        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        return thread


def producer(load, port):
    client = RawClient(port, timeout=60)
    batch = records([b"x" * 1000] * 64)
    while not load.stop.is_set():
        code, _ = produce(client, "hot", batch)
        assert code == 0, f"produce error {code}"
        with load.lock:
            load.acknowledged += 1
    client.close()


def creator(load, port, name):
    client = RawClient(port, timeout=120)
    topic = CreateTopicsRequest.CreatableTopic
    round_ = 0
    while not load.stop.is_set():
        topic_name = f"{name}-{round_}"
        created = client.call(CreateTopicsRequest[4](topics=[topic(name=topic_name, num_partitions=PARTITIONS_PER_TOPIC, replication_factor=1,
                                                                     assignments=[], configs=[])], timeout_ms=120000, validate_only=False),
                              CreateTopicsResponse)
        assert created.topics[0].error_code == 0, f"create error {created.topics[0]}"
        with load.lock:
            load.topics_created += 1
        deleted = client.call(DeleteTopicsRequest[4](topic_names=[topic_name], timeout_ms=120000), DeleteTopicsResponse)
        assert deleted.responses[0].error_code == 0, f"delete error {deleted.responses[0]}"
        round_ += 1
    client.close()


def test_api_versions_and_metadata_answer_promptly_during_fsync_bound_produce_and_topic_creation(petrel, tmp_path):
    config = tmp_path / "broker.properties"
    config.write_text("log.flush.interval.messages=1\nmax.broker.partitions=4000\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)], log_path=tmp_path / "broker.log") as broker:
        probe = RawClient(broker.port, timeout=60)
        metadata(probe, ["hot"])  # creates the produced topic
        load = Load()
        threads = [load.run(producer, load, broker.port) for _ in range(PRODUCERS)]
        threads += [load.run(creator, load, broker.port, f"churn{i}") for i in range(CREATORS)]
        latencies = []
        deadline = time.monotonic() + DURATION_S
        while time.monotonic() < deadline:
            started = time.monotonic()
            versions = probe.call(ApiVersionsRequest[3](client_software_name="probe", client_software_version="1"), ApiVersionsResponse)
            assert versions.error_code == 0
            latencies.append(time.monotonic() - started)
            started = time.monotonic()
            assert metadata(probe, ["hot"]).topics[0].error_code == 0
            latencies.append(time.monotonic() - started)
            time.sleep(0.01)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        probe.close()
    assert not load.errors, load.errors
    worst = max(latencies)
    summary = (f"{len(latencies)} probes: median {statistics.median(latencies) * 1000:.1f} ms, worst {worst * 1000:.1f} ms; "
               f"{load.acknowledged} produces acknowledged, {load.topics_created} topics created meanwhile")
    print(summary)
    assert worst <= PROBE_LATENCY_MAX_S, summary
    # The load was real: without it the probe's latencies prove nothing.
    assert load.acknowledged >= 20, f"only {load.acknowledged} fsync-acknowledged produces: {summary}"
    assert load.topics_created >= 2, f"only {load.topics_created} topics of {PARTITIONS_PER_TOPIC} partitions created: {summary}"
