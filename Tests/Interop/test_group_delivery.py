"""At-least-once and at-most-once with a consumer group, counted under SIGKILL: three
confluent-kafka members (separate processes, `group_member.py`) share a topic; one member at a
time is killed with SIGKILL and replaced, at least 20 times (100 with PETREL_LONG_TESTS=1); the
records each member processed and the commits it got acknowledged are in its log, and the
checkers below count what was lost and what was processed twice.

- at-least-once (commit after processing): 0 lost; a record processed twice must have been
  processed, at least once, without a commit covering it afterwards in that member's log — by a
  member killed before its commit, or one whose commit was refused because it had lost the
  partition in a rebalance. Any other duplicate means a committed offset was not honoured.
- at-most-once (commit before processing): 0 duplicates; the records lost are counted (a
  member killed between its commit and its processing).

The checkers are shown failing on logs that break each promise on purpose."""
import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient

from broker import Broker
from conftest import retrying

LONG = os.environ.get("PETREL_LONG_TESTS") == "1"
KILLS = 100 if LONG else 20
RECORDS = 24_000 if LONG else 6_000
PARTITIONS = 6
MEMBER = Path(__file__).with_name("group_member.py")


def parse(log_text):
    """A member's log as a list of (kind, partition, offset, value)."""
    entries = []
    for line in log_text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "P":
            entries.append(("P", int(parts[1]), int(parts[2]), parts[3]))
        elif len(parts) == 3 and parts[0] in ("C", "F"):
            entries.append((parts[0], int(parts[1]), int(parts[2]), None))
        # A last line cut by SIGKILL mid-write is not a record processed.
    return entries


def uncovered(entries):
    """Processed records with no acknowledged commit past them later in the same log."""
    committed_after, result = collections.defaultdict(lambda: -1), []
    for kind, partition, offset, value in reversed(entries):
        if kind == "C":
            committed_after[partition] = max(committed_after[partition], offset)
        elif kind == "P" and committed_after[partition] <= offset:
            result.append(value)
    return collections.Counter(result)


def check_at_least_once(logs, expected):
    processed = collections.Counter(value for entries in logs for kind, _, _, value in entries if kind == "P")
    allowed = sum((uncovered(entries) for entries in logs), collections.Counter())
    lost = sorted(set(expected) - set(processed))
    duplicates = {value: count for value, count in processed.items() if count > 1}
    unexplained = sorted(value for value, count in duplicates.items() if allowed[value] < count - 1)
    return lost, duplicates, unexplained


def check_at_most_once(logs, expected):
    processed = collections.Counter(value for entries in logs for kind, _, _, value in entries if kind == "P")
    duplicates = {value: count for value, count in processed.items() if count > 1}
    lost = sorted(set(expected) - set(processed))
    return duplicates, lost


def test_the_checkers_fail_when_a_promise_is_broken_on_purpose():
    expected = ["0", "1", "2", "3"]
    honest = [parse("P 0 0 0\nC 0 1\nP 0 1 1\nC 0 2\n"), parse("P 1 0 2\nC 1 1\nP 1 1 3\n"), parse("P 1 1 3\nC 1 2\n")]
    assert check_at_least_once(honest, expected) == ([], {"3": 2}, []), "a redelivery after a kill before the commit is allowed"
    dropped = [parse("P 0 0 0\nC 0 1\nC 0 2\n"), parse("P 1 0 2\nC 1 1\nP 1 1 3\nC 1 2\n")]
    assert check_at_least_once(dropped, expected)[0] == ["1"], "a record nobody processed is lost"
    replayed = [parse("P 0 0 0\nC 0 1\n"), parse("P 0 0 0\nC 0 1\nP 0 1 1\nC 0 2\nP 1 0 2\nC 1 1\nP 1 1 3\nC 1 2\n")]
    assert check_at_least_once(replayed, expected)[2] == ["0"], "a record processed again after its commit is unexplained"
    assert check_at_most_once(replayed, expected)[0] == {"0": 2}, "at-most-once sees the duplicate"
    killed_between = [parse("C 0 1\n"), parse("C 0 2\nP 0 1 1\nC 1 1\nP 1 0 2\nC 1 2\nP 1 1 3\n")]
    assert check_at_most_once(killed_between, expected) == ({}, ["0"]), "a kill between commit and processing loses the record"


def run_group_under_kills(petrel, tmp_path, mode):
    seed = int(os.environ.get("PETREL_DELIVERY_SEED", random.randrange(1 << 30)))
    print(f"{mode}: seed {seed} (PETREL_DELIVERY_SEED replays the kill order)")
    generator = random.Random(seed)
    config = tmp_path / "broker.properties"
    config.write_text("group.initial.rebalance.delay.ms=0\ngroup.min.session.timeout.ms=1000\noffsets.topic.num.partitions=3\n")
    logs_dir = tmp_path / "members"
    logs_dir.mkdir()
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)], log_path=tmp_path / "broker.log") as broker:
        creator = AdminClient({"bootstrap.servers": broker.address})  # kept alive until the creation is answered
        creator.create_topics([NewTopic("work", PARTITIONS, 1)])["work"].result(15)
        producer = Producer({"bootstrap.servers": broker.address, "linger.ms": 5})
        for i in range(RECORDS):
            producer.produce("work", value=b"%d" % i, partition=i % PARTITIONS)
        assert producer.flush(30) == 0
        started = []

        def start_member():
            path = logs_dir / f"member-{len(started)}.log"
            process = subprocess.Popen([sys.executable, str(MEMBER), broker.address, "work", "delivery", mode, str(path), "2"],
                                       stdout=subprocess.DEVNULL, stderr=open(logs_dir / f"member-{len(started)}.err", "wb"))
            started.append(process)
            return process

        alive = [start_member() for _ in range(3)]
        admin = KafkaAdminClient(bootstrap_servers=broker.address)

        def committed_total():
            offsets = retrying(lambda: admin.list_group_offsets("delivery")).get("delivery", {})
            return sum(meta.offset for meta in offsets.values() if meta.offset > 0)

        try:
            # Kills begin once the group is consuming, and land at random moments of the stream.
            deadline = time.monotonic() + 60
            while committed_total() == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            for _ in range(KILLS):
                time.sleep(generator.uniform(0.3, 1.2))
                victim = alive.pop(generator.randrange(len(alive)))
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
                alive.append(start_member())
            progress_at, last = time.monotonic(), -1
            while time.monotonic() - progress_at < 20:
                total = committed_total()
                if total >= RECORDS:
                    break
                if total != last:
                    progress_at, last = time.monotonic(), total
                time.sleep(0.3)
            committed = committed_total()
        finally:
            admin.close()
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
    logs = [parse((logs_dir / f"member-{index}.log").read_text()) if (logs_dir / f"member-{index}.log").exists() else []
            for index in range(len(started))]
    return logs, committed


def test_at_least_once_loses_nothing_under_repeated_sigkill(petrel, tmp_path):
    logs, committed = run_group_under_kills(petrel, tmp_path, "at-least-once")
    expected = [str(i) for i in range(RECORDS)]
    lost, duplicates, unexplained = check_at_least_once(logs, expected)
    processed = sum(1 for entries in logs for kind, *_ in entries if kind == "P")
    print(f"at-least-once: {KILLS} kills, {RECORDS} records, {processed} processed, {len(lost)} lost, "
          f"{sum(duplicates.values()) - len(duplicates)} duplicates ({len(unexplained)} unexplained), committed {committed}")
    assert committed == RECORDS, f"the group committed {committed} of {RECORDS}"
    assert lost == [], f"{len(lost)} records lost, e.g. {lost[:10]}"
    assert unexplained == [], f"records processed again after a commit covered them: {unexplained[:10]}"


def test_at_most_once_processes_nothing_twice_under_repeated_sigkill(petrel, tmp_path):
    logs, committed = run_group_under_kills(petrel, tmp_path, "at-most-once")
    expected = [str(i) for i in range(RECORDS)]
    duplicates, lost = check_at_most_once(logs, expected)
    print(f"at-most-once: {KILLS} kills, {RECORDS} records, {len(lost)} lost (killed between commit and processing), "
          f"{len(duplicates)} processed twice, committed {committed}")
    assert committed == RECORDS, f"the group committed {committed} of {RECORDS}"
    assert duplicates == {}, f"processed twice: {list(duplicates)[:10]}"
    assert len(lost) <= KILLS, f"{len(lost)} lost: more than one per kill"
