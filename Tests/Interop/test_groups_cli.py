"""`petrel groups` (list, describe, reset-offsets, delete) against a `petrel broker` process, on a
group that real clients made: two confluent-kafka members share a four-partition topic and commit,
and the numbers the tool shows are checked against what was produced, consumed and committed;
resets are checked with kafka-python's admin client, which reads the offsets on its own."""
import json
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient

from broker import Broker, free_port
from conftest import retrying

TOPIC = "orders"
GROUP = "cli-group"
PRODUCED = [10, 20, 30, 40]        # records in partitions 0-3
COMMITTED = [4, 9, 30, 17]         # what the members commit: lag 6, 11, 0, 23


def broker_config(tmp_path):
    config = tmp_path / "broker.properties"
    config.write_text("group.initial.rebalance.delay.ms=0\noffsets.topic.num.partitions=3\ngroup.min.session.timeout.ms=1000\n")
    return ["--config", str(config)]


def groups(petrel, address, *args, expect=0):
    """Runs `petrel groups ...`; returns (stdout, stderr), failing unless it exits with `expect`."""
    done = subprocess.run([petrel, "groups", *args, "--bootstrap-server", address], capture_output=True, timeout=60)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == expect, f"petrel groups {' '.join(args)} exited {done.returncode}, not {expect}:\n{out}\n{err}"
    return out, err


def groups_json(petrel, address, *args, expect=0):
    out, _ = groups(petrel, address, *args, "--json", expect=expect)
    return json.loads(out)


class Member(threading.Thread):
    """A confluent-kafka consumer of the group: consumes what it is assigned, and on `commit`
    commits COMMITTED for its own partitions (from its own thread, as the client requires)."""

    def __init__(self, address, name):
        super().__init__()
        self.address, self.name = address, name
        self.lock, self.assignment, self.consumed = threading.Lock(), [], 0
        self.commit, self.committed, self.stop = threading.Event(), threading.Event(), threading.Event()

    def run(self):
        consumer = Consumer({"bootstrap.servers": self.address, "group.id": GROUP, "client.id": self.name,
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})

        def assigned(_, partitions):
            with self.lock:
                self.assignment = sorted(p.partition for p in partitions)
        consumer.subscribe([TOPIC], on_assign=assigned)
        while not self.stop.is_set():
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                with self.lock:
                    self.consumed += 1
            if self.commit.is_set() and not self.committed.is_set():
                with self.lock:
                    mine = list(self.assignment)
                if mine:
                    consumer.commit(offsets=[TopicPartition(TOPIC, p, COMMITTED[p]) for p in mine], asynchronous=False)
                self.committed.set()
        consumer.close()  # leaves the group


def wait_until(condition, timeout=30, what="condition"):
    """Waits for `condition`; `what` is a string or a function giving one (evaluated at the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


def committed_offsets(address):
    admin = KafkaAdminClient(bootstrap_servers=address)
    try:
        offsets = retrying(lambda: admin.list_group_offsets(GROUP))[GROUP]
    finally:
        admin.close()
    return [offsets[tp].offset for tp in sorted(offsets, key=lambda tp: tp.partition)]


def test_groups_list_describe_reset_and_delete(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data", extra_args=broker_config(tmp_path), log_path=tmp_path / "broker.log") as broker:
        address = broker.address
        admin = AdminClient({"bootstrap.servers": address})  # kept: the future fails if the client is collected
        admin.create_topics([NewTopic(TOPIC, len(PRODUCED), 1)])[TOPIC].result(15)
        producer = Producer({"bootstrap.servers": address})
        for partition, count in enumerate(PRODUCED):
            for i in range(count):
                producer.produce(TOPIC, value=b"%d" % i, partition=partition)
        assert producer.flush(15) == 0

        members = [Member(address, f"member-{i}") for i in range(2)]
        # One after the other: the second joins a Stable group. Joining together races the
        # coordinator's assignment write (a write of a generation that was superseded leaves
        # `assignmentWriteInFlight` set, and the next generation's SyncGroup is never answered),
        # which is the coordinator's bug to fix, not what this test is about.
        members[0].start()
        wait_until(lambda: members[0].assignment == [0, 1, 2, 3], what="the first member to own every partition")
        members[1].start()
        try:
            def settled():
                with members[0].lock, members[1].lock:
                    owned = members[0].assignment + members[1].assignment
                    consumed = members[0].consumed + members[1].consumed
                # At least: records of a partition that moved in the rebalance are read again (nothing was committed).
                return sorted(owned) == [0, 1, 2, 3] and all(m.assignment for m in members) and consumed >= sum(PRODUCED)
            wait_until(settled, what=lambda: "two members sharing four partitions and consuming every record: "
                       + str([(m.assignment, m.consumed) for m in members]))
            for member in members:
                member.commit.set()
            wait_until(lambda: all(m.committed.is_set() for m in members), what="the members' commits")
            assert committed_offsets(address) == COMMITTED

            # list: the group, Stable, of the consumer protocol; --state filters.
            listed = groups_json(petrel, address, "list")
            assert {"group": GROUP, "protocolType": "consumer", "state": "Stable", "coordinator": address} in listed["groups"]
            assert listed["errors"] == []
            assert [g["group"] for g in groups_json(petrel, address, "list", "--state", "empty")["groups"]] == []
            text, _ = groups(petrel, address, "list")
            assert GROUP in text and "Stable" in text

            # describe: two members owning the four partitions, and exact offsets and lag.
            described = groups_json(petrel, address, "describe", GROUP)["groups"]
            assert len(described) == 1
            group = described[0]
            assert (group["state"], group["protocolType"], group["error"]) == ("Stable", "consumer", None)
            assert group["protocol"] in ("range", "roundrobin", "cooperative-sticky")
            assert sorted(m["clientId"] for m in group["members"]) == ["member-0", "member-1"]
            owner_of = {}
            for member in group["members"]:
                assert member["host"] and member["assignmentError"] is None
                for assigned in member["assignment"]:
                    assert assigned["topic"] == TOPIC and assigned["partition"] not in owner_of
                    owner_of[assigned["partition"]] = member["memberId"]
            assert sorted(owner_of) == [0, 1, 2, 3]
            by_client = {m["clientId"]: sorted(a["partition"] for a in m["assignment"]) for m in group["members"]}
            assert by_client == {m.name: m.assignment for m in members}, "what the tool decoded is what each client was assigned"
            rows = [(p["topic"], p["partition"], p["committedOffset"], p["logEndOffset"], p["lag"], p["owner"], p["error"])
                    for p in group["partitions"]]
            assert rows == [(TOPIC, p, COMMITTED[p], PRODUCED[p], PRODUCED[p] - COMMITTED[p], owner_of[p], None) for p in range(4)]
            text, _ = groups(petrel, address, "describe", GROUP)
            assert "2 members" in text and "LAG" in text and "member-0" in text

            # A group with members is neither reset nor deleted.
            _, err = groups(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest", "--execute", expect=1)
            assert "2 active members" in err and "Stable" in err
            out, _ = groups(petrel, address, "delete", GROUP, expect=1)
            assert "NON_EMPTY_GROUP" in out
            assert committed_offsets(address) == COMMITTED
        finally:
            for member in members:
                member.stop.set()
            for member in members:
                member.join(30)

        wait_until(lambda: groups_json(petrel, address, "describe", GROUP)["groups"][0]["state"] == "Empty", what="the group to empty")
        group = groups_json(petrel, address, "describe", GROUP)["groups"][0]
        assert group["members"] == [] and [p["lag"] for p in group["partitions"]] == [PRODUCED[p] - COMMITTED[p] for p in range(4)]

        # Dry run (the default): the plan, nothing committed.
        plan = groups_json(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest")
        assert plan["executed"] is False
        assert [(p["partition"], p["oldOffset"], p["newOffset"]) for p in plan["partitions"]] == [(p, COMMITTED[p], 0) for p in range(4)]
        assert committed_offsets(address) == COMMITTED

        plan = groups_json(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest", "--execute")
        assert plan["executed"] is True and all(p["error"] is None for p in plan["partitions"])
        assert committed_offsets(address) == [0, 0, 0, 0]

        # --shift-by and --to-offset are clamped into [log start, log end].
        groups(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, "--shift-by", "15", "--execute")
        assert committed_offsets(address) == [10, 15, 15, 15]
        groups(petrel, address, "reset-offsets", GROUP, "--topic", f"{TOPIC}:1,3", "--shift-by", "-100", "--execute")
        assert committed_offsets(address) == [10, 0, 15, 0]
        groups(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, "--to-offset", "25", "--execute")
        assert committed_offsets(address) == [10, 20, 25, 25]
        groups(petrel, address, "reset-offsets", GROUP, "--all-topics", "--to-latest", "--execute")
        assert committed_offsets(address) == PRODUCED
        text, err = groups(petrel, address, "reset-offsets", GROUP, "--topic", f"{TOPIC}:2", "--to-offset", "3", "--dry-run")
        assert "OLD-OFFSET" in text and "dry run" in err
        groups(petrel, address, "reset-offsets", GROUP, "--topic", f"{TOPIC}:2", "--to-datetime", "2000-01-01T00:00:00Z", "--execute")
        assert committed_offsets(address) == [10, 20, 0, 40], "every record is newer than 2000"

        # Usage errors and an unreachable broker exit with 2.
        groups(petrel, address, "reset-offsets", GROUP, "--topic", TOPIC, expect=2)
        _, err = groups(petrel, f"127.0.0.1:{free_port()}", "list", expect=2)
        assert "127.0.0.1" in err and "connect" in err

        # delete: the group goes; an unknown one is GROUP_ID_NOT_FOUND, exit status 1.
        out, _ = groups(petrel, address, "delete", GROUP)
        assert f"{GROUP}: deleted" in out
        assert GROUP not in [g["group"] for g in groups_json(petrel, address, "list")["groups"]]
        out, _ = groups(petrel, address, "delete", "no-such-group", expect=1)
        assert "GROUP_ID_NOT_FOUND" in out
        assert groups_json(petrel, address, "delete", "no-such-group", expect=1)["groups"] == [{"group": "no-such-group", "error": "GROUP_ID_NOT_FOUND"}]
