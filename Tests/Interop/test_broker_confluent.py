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
            assert [v[0] for v in values] == [f"{codec}-{i}" for codec in CODECS for i in range(100)], acks
            assert all(v[1].startswith(v[0] + "-") and v[2] == [("codec", v[0].split("-")[0].encode())] for v in values)
