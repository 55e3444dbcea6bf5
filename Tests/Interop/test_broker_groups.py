"""Consumer groups with real clients against a `petrel broker` process: members of one group
share a topic's partitions (none owned twice) and consume every record; committed offsets
survive a restart, replayed from __consumer_offsets."""
import collections
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient, KafkaConsumer

from broker import Broker
from conftest import retrying, run

RECORDS = 600
PARTITIONS = 6


def group_config(tmp_path):
    config = tmp_path / "broker.properties"
    # No initial rebalance delay (Kafka's 3 s would only slow the test); few offsets partitions.
    config.write_text("group.initial.rebalance.delay.ms=0\noffsets.topic.num.partitions=5\ngroup.min.session.timeout.ms=1000\n")
    return ["--config", str(config)]


def produce(address, topic):
    admin = AdminClient({"bootstrap.servers": address})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(15)
    producer = Producer({"bootstrap.servers": address})
    for i in range(RECORDS):
        producer.produce(topic, value=b"%d" % i, partition=i % PARTITIONS)
    assert producer.flush(15) == 0


class Member(threading.Thread):
    """A confluent-kafka consumer in the group, recording what it consumed and what it owned."""

    def __init__(self, address, topic, name, seen, lock):
        super().__init__()
        self.address, self.topic, self.name, self.seen, self.lock = address, topic, name, seen, lock
        self.stop_event, self.assignments = threading.Event(), []

    def run(self):
        consumer = Consumer({"bootstrap.servers": self.address, "group.id": "shared", "auto.offset.reset": "earliest",
                             "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                             "on_commit": lambda *_: None})

        def assigned(_, partitions):
            with self.lock:
                self.assignments.append(sorted(p.partition for p in partitions))
        consumer.subscribe([self.topic], on_assign=assigned)
        while not self.stop_event.is_set():
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                with self.lock:
                    self.seen.setdefault(int(message.value()), []).append(self.name)
        consumer.close()  # leaves the group


def owned_now(members):
    return [member.assignments[-1] if member.assignments else [] for member in members]


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)
    return condition()


def test_members_share_the_partitions_and_rebalance_when_one_joins_and_one_leaves(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data", extra_args=group_config(tmp_path)) as broker:
        produce(broker.address, "shared-topic")
        seen, lock = {}, threading.Lock()
        members = [Member(broker.address, "shared-topic", f"m{i}", seen, lock) for i in range(3)]
        for member in members:
            member.start()
        assert wait_until(lambda: len(seen) == RECORDS), f"{len(seen)} of {RECORDS} consumed"

        def settled(group):
            with lock:
                owned = owned_now(group)
            flat = [p for partitions in owned for p in partitions]
            return sorted(flat) == list(range(PARTITIONS)) and all(owned)
        assert wait_until(lambda: settled(members)), owned_now(members)
        with lock:
            owned = owned_now(members)
        assert sorted(p for partitions in owned for p in partitions) == list(range(PARTITIONS)), f"no partition owned twice: {owned}"

        fourth = Member(broker.address, "shared-topic", "m3", seen, lock)
        fourth.start()
        members.append(fourth)
        assert wait_until(lambda: settled(members)), f"the fourth member got partitions: {owned_now(members)}"
        members[0].stop_event.set()
        members[0].join()
        rest = members[1:]
        assert wait_until(lambda: settled(rest)), f"the leaver's partitions moved: {owned_now(rest)}"

        producer = Producer({"bootstrap.servers": broker.address})
        for i in range(RECORDS, RECORDS + 60):
            producer.produce("shared-topic", value=b"%d" % i, partition=i % PARTITIONS)
        assert producer.flush(15) == 0
        assert wait_until(lambda: len(seen) == RECORDS + 60), f"{len(seen)} of {RECORDS + 60} consumed after the rebalances"
        for member in rest:
            member.stop_event.set()
        for member in rest:
            member.join()
        assert sorted(seen) == list(range(RECORDS + 60)), "every record consumed"


def test_committed_offsets_and_groups_survive_a_restart_and_every_client_reads_them(petrel, tmp_path):
    data = tmp_path / "data"
    with Broker(petrel, data, extra_args=group_config(tmp_path)) as broker:
        produce(broker.address, "kept")
        consumer = KafkaConsumer("kept", bootstrap_servers=broker.address, group_id="kp", auto_offset_reset="earliest",
                                 enable_auto_commit=False, consumer_timeout_ms=5000, session_timeout_ms=6000, heartbeat_interval_ms=500)
        consumed = 0
        for _ in consumer:
            consumed += 1
            if consumed == RECORDS // 2:
                consumer.commit()
                break
        consumer.close()
        # kcat's balanced consumer (librdkafka 2.0.2) reads the whole topic in a group of its own.
        lines = run(["kcat", "-b", broker.address, "-G", "kcat-group", "kept", "-o", "beginning", "-e", "-q",
                     "-X", "session.timeout.ms=6000"]).decode().splitlines()
        assert sorted(int(line) for line in lines) == list(range(RECORDS))
    with Broker(petrel, data, extra_args=group_config(tmp_path)) as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        committed = retrying(lambda: admin.list_group_offsets("kp"))["kp"]
        assert sum(meta.offset for meta in committed.values()) == RECORDS // 2, committed
        groups = {group["group_id"]: group["group_state"] for group in retrying(admin.list_groups)}
        assert groups == {"kp": "Empty", "kcat-group": "Empty"}, groups
        admin.close()
        consumer = KafkaConsumer("kept", bootstrap_servers=broker.address, group_id="kp", auto_offset_reset="earliest",
                                 enable_auto_commit=False, consumer_timeout_ms=5000, session_timeout_ms=6000, heartbeat_interval_ms=500)
        rest = [int(message.value) for message in consumer]
        consumer.close()
        assert len(rest) == RECORDS - RECORDS // 2, "the restarted broker resumed the group from its committed offsets"
    dump = run([petrel, "dump", "--records", *[str(p) for p in sorted(data.glob("__consumer_offsets-*/00000000000000000000.log"))]]).decode()
    assert "offset-commit group=kp topic=kept" in dump and "group-metadata group=kp protocolType=consumer" in dump


def test_sigterm_while_a_member_waits_in_a_rebalance_stops_the_broker_promptly(petrel, tmp_path):
    """A JoinGroup parked in a rebalance (here a long initial delay) held shutdown until the
    rebalance ended: SIGTERM must answer it and stop within seconds."""
    config = tmp_path / "broker.properties"
    config.write_text("group.initial.rebalance.delay.ms=60000\noffsets.topic.num.partitions=2\n")
    broker = Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)]).start()
    try:
        produce(broker.address, "waiting")
        consumer = KafkaConsumer("waiting", bootstrap_servers=broker.address, group_id="parked", consumer_timeout_ms=1000)
        joining = threading.Thread(target=lambda: next(iter(consumer), None), daemon=True)
        joining.start()
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        assert wait_until(lambda: retrying(lambda: admin.describe_groups(["parked"]))["parked"]["group_state"] == "PreparingRebalance"), "the member is parked in its join"
        admin.close()
        started = time.monotonic()
        assert broker.stop(timeout=30) == 0
        assert time.monotonic() - started < 10, f"shutdown took {time.monotonic() - started:.1f} s"
    finally:
        broker.kill()


def test_a_static_member_restarted_within_its_session_gets_its_partitions_back_without_a_rebalance(petrel, tmp_path):
    """KIP-345 with librdkafka: `group.instance.id` members. One is closed (librdkafka sends no
    LeaveGroup for a static member) and a new consumer with the same instance id joins within
    the session timeout: it gets the same partitions, and the other member's assignment
    callback is not called again."""
    with Broker(petrel, tmp_path / "data", extra_args=group_config(tmp_path)) as broker:
        produce(broker.address, "static-topic")
        assignments, lock = collections.defaultdict(list), threading.Lock()

        def member(instance):
            consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "static", "group.instance.id": instance,
                                 "session.timeout.ms": 10000, "heartbeat.interval.ms": 300, "auto.offset.reset": "earliest"})

            def assigned(_, partitions):
                with lock:
                    assignments[instance].append(sorted(p.partition for p in partitions))
            consumer.subscribe(["static-topic"], on_assign=assigned)
            return consumer

        def poll_until(consumers, condition, timeout=30):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for consumer in consumers:
                    consumer.poll(0.05)
                with lock:
                    if condition():
                        return True
            return False

        first, second = member("first"), member("second")
        assert poll_until([first, second], lambda: assignments["first"] and assignments["second"]
                          and sorted(assignments["first"][-1] + assignments["second"][-1]) == list(range(PARTITIONS))), dict(assignments)
        with lock:
            owned_before, second_callbacks = assignments["first"][-1], len(assignments["second"])
        first.close()
        restarted = member("first")
        assert poll_until([restarted, second], lambda: len(assignments["first"]) >= 2), "the restarted member got an assignment"
        for _ in range(20):  # the other member keeps polling: a rebalance would reach its callback
            second.poll(0.05)
            restarted.poll(0.05)
        with lock:
            assert assignments["first"][-1] == owned_before, "the same partitions came back"
            assert len(assignments["second"]) == second_callbacks, f"the other member was not rebalanced: {assignments['second']}"
        restarted.close()
        second.close()
