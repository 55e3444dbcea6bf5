"""The broker with confluent-kafka (PyPI, bundling librdkafka 2.16): producers with acks 0, 1
and all and each codec, a consumer with assign()."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from broker import Broker

CODECS = ("none", "gzip", "lz4", "zstd", "snappy")


def test_producer_acks_and_codecs_then_assign_consumer(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data") as broker:
        for acks in ("0", "1", "all"):
            topic = f"cf-acks-{acks}"
            for codec in CODECS:
                producer = Producer({"bootstrap.servers": broker.address, "acks": acks, "compression.type": codec, "linger.ms": 5})
                reports = []
                for i in range(100):
                    producer.produce(topic, key=f"{codec}-{i}", value=f"{codec}-{i}-" + "z" * 200, headers=[("codec", codec.encode())],
                                     on_delivery=lambda error, message: reports.append((error, message.offset())))
                assert producer.flush(15) == 0
                assert len(reports) == 100 and all(error is None for error, _ in reports), reports[:3]
                if acks != "0":
                    offsets = [offset for _, offset in reports]
                    assert offsets == sorted(offsets) and len(set(offsets)) == 100

            consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "unused", "enable.auto.commit": False})
            consumer.assign([TopicPartition(topic, 0, 0)])
            values, deadline = [], time.monotonic() + 30
            while len(values) < 500 and time.monotonic() < deadline:
                message = consumer.poll(1.0)
                if message is not None and message.error() is None:
                    values.append((message.key().decode(), message.value().decode(), message.headers()))
            consumer.close()
            expected = [f"{codec}-{i}" for codec in CODECS for i in range(100)]
            if acks == "0":
                # Without acknowledgements, one producer's flush does not wait for the broker, so the
                # next producer's connection may be served first: order holds within each producer.
                assert sorted(v[0] for v in values) == sorted(expected)
                for codec in CODECS:
                    assert [v[0] for v in values if v[0].startswith(codec + "-")] == [f"{codec}-{i}" for i in range(100)]
            else:
                assert [v[0] for v in values] == expected, acks
            assert all(v[1].startswith(v[0] + "-") and v[2] == [("codec", v[0].split("-")[0].encode())] for v in values)


def test_admin_client_creates_and_deletes_topics(petrel, tmp_path):
    from confluent_kafka.admin import AdminClient, NewTopic

    with Broker(petrel, tmp_path / "data") as broker:
        admin = AdminClient({"bootstrap.servers": broker.address})
        for future in admin.create_topics([NewTopic("three", num_partitions=3, replication_factor=1), NewTopic("one", num_partitions=1)]).values():
            assert future.result(timeout=15) is None
        topics = admin.list_topics(timeout=10).topics
        assert len(topics["three"].partitions) == 3 and len(topics["one"].partitions) == 1
        error = admin.create_topics([NewTopic("three", num_partitions=1)])["three"].exception(timeout=15)
        assert error is not None and error.args[0].name() == "TOPIC_ALREADY_EXISTS"
        from confluent_kafka.admin import ConfigResource, NewPartitions

        assert admin.create_partitions([NewPartitions("three", 5)])["three"].result(timeout=15) is None
        assert len(admin.list_topics(timeout=10).topics["three"].partitions) == 5
        shrink = admin.create_partitions([NewPartitions("three", 2)])["three"].exception(timeout=15)
        assert shrink is not None and shrink.args[0].name() == "INVALID_PARTITIONS"
        configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "three")])
        described = next(iter(configs.values())).result(timeout=15)
        assert described["cleanup.policy"].value == "delete" and int(described["segment.bytes"].value) > 0
        assert admin.delete_topics(["one"])["one"].result(timeout=15) is None
        assert "one" not in admin.list_topics(timeout=10).topics
        assert not (tmp_path / "data" / "one-0").exists()


def test_a_waiting_consumer_is_woken_by_an_append(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data") as broker:
        producer = Producer({"bootstrap.servers": broker.address})
        producer.produce("wake", value=b"first")
        producer.flush(10)
        consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "unused", "enable.auto.commit": False,
                             "fetch.wait.max.ms": 20000})
        consumer.assign([TopicPartition("wake", 0, 1)])
        consumer.poll(0.5)  # the consumer is now parked in a long-poll fetch
        producer.produce("wake", value=b"second")
        producer.flush(10)
        started = time.monotonic()
        message = None
        while message is None and time.monotonic() - started < 15:
            message = consumer.poll(0.5)
        waited = time.monotonic() - started
        assert message is not None and message.value() == b"second"
        assert waited < 10, "woken by the append, not by fetch.wait.max.ms (20 s)"
        consumer.close()


def test_million_message_round_trip_across_a_restart(petrel, tmp_path):
    import hashlib

    data = tmp_path / "data"
    count = 1_000_000
    sent = hashlib.sha256()
    with Broker(petrel, data) as broker:
        producer = Producer({"bootstrap.servers": broker.address, "acks": "all", "linger.ms": 20, "batch.size": 1 << 20,
                             "compression.type": "lz4"})
        failures = []
        for i in range(count):
            value = b"message %07d " % i + b"x" * 80
            sent.update(value)
            while True:
                try:
                    producer.produce("million", value=value, on_delivery=lambda error, _: error and failures.append(error))
                    break
                except BufferError:
                    producer.poll(0.1)
            if i % 10_000 == 0:
                producer.poll(0)
        assert producer.flush(120) == 0 and not failures, failures[:3]
    with Broker(petrel, data) as broker:
        consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "unused", "enable.auto.commit": False,
                             "fetch.max.bytes": 50 << 20, "max.partition.fetch.bytes": 10 << 20})
        consumer.assign([TopicPartition("million", 0, 0)])
        received = hashlib.sha256()
        got, deadline = 0, time.monotonic() + 300
        while got < count and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=10_000, timeout=1.0):
                if message.error() is None:
                    received.update(message.value())
                    got += 1
        consumer.close()
    assert got == count
    assert received.hexdigest() == sent.hexdigest()
