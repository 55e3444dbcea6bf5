"""Compacted topics with real clients (confluent-kafka, librdkafka): a topic created with
compaction configs, min.cleanable.dirty.ratio altered at run time, the broker's own cleaner
compacting it in the background, a keyless record refused, and DeleteRecords."""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic

from broker import Broker


def read_all(address, topic, partition=0):
    """Every message from the log start to the high watermark, as (offset, key, value)."""
    consumer = Consumer({"bootstrap.servers": address, "group.id": "reader", "enable.auto.commit": False,
                         "enable.partition.eof": True})
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    consumer.assign([TopicPartition(topic, partition, low)])
    messages, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline and high > low:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            if message.error().code() == -191:  # _PARTITION_EOF
                break
            raise KafkaException(message.error())
        messages.append((message.offset(), message.key(), message.value()))
    consumer.close()
    return messages


def test_a_compacted_topic_is_configured_altered_compacted_and_trimmed(petrel, tmp_path):
    properties = tmp_path / "server.properties"
    properties.write_text("log.cleaner.backoff.ms=100\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(properties)]) as broker:
        admin = AdminClient({"bootstrap.servers": broker.address})
        topic = NewTopic("table", num_partitions=1, replication_factor=1,
                         config={"cleanup.policy": "compact", "segment.bytes": "16384", "min.cleanable.dirty.ratio": "1.0"})
        admin.create_topics([topic])["table"].result(timeout=15)

        resource = ConfigResource(ConfigResource.Type.TOPIC, "table")
        described = admin.describe_configs([resource])[resource].result(timeout=15)
        assert described["cleanup.policy"].value == "compact"
        assert described["cleanup.policy"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
        assert described["delete.retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

        # Batches smaller than a segment (a larger one is refused, as Kafka refuses it).
        producer = Producer({"bootstrap.servers": broker.address, "linger.ms": 5, "batch.num.messages": 50})
        last, failures = {}, []
        for i in range(3_000):
            key = f"key-{i % 25}"
            value = f"{key}-value-{i}-" + "p" * 40
            producer.produce("table", key=key, value=value, on_delivery=lambda error, _: error and failures.append(error))
            last[key] = value
        assert producer.flush(15) == 0
        assert failures == []

        # At 1.0 no log is ever dirty enough to clean; at 0.01, altered at run time, this one is.
        time.sleep(1.0)
        assert len(read_all(broker.address, "table")) == 3_000
        altered = ConfigResource(ConfigResource.Type.TOPIC, "table", incremental_configs=[
            ConfigEntry("min.cleanable.dirty.ratio", "0.01", incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([altered])[altered].result(timeout=15)
        described = admin.describe_configs([resource])[resource].result(timeout=15)
        assert described["min.cleanable.dirty.ratio"].value == "0.01"

        deadline = time.monotonic() + 60
        while True:
            messages = read_all(broker.address, "table")
            if len(messages) < 1_000 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(messages) < 1_000, f"the broker's cleaner did not compact the topic ({len(messages)} messages)"
        offsets = [offset for offset, _, _ in messages]
        assert offsets == sorted(set(offsets))
        table = {key.decode(): value.decode() for _, key, value in messages}
        assert table == last, "the last value of every key survives compaction"

        # A record without a key is refused on a compacted topic.
        errors = []
        producer.produce("table", key=None, value="keyless", on_delivery=lambda error, _: errors.append(error))
        producer.flush(15)
        assert errors and errors[0] is not None and errors[0].name() == "INVALID_RECORD", errors

        # DeleteRecords moves the log start offset; what is below it is gone.
        cut = messages[len(messages) // 2][0]
        result = admin.delete_records([TopicPartition("table", 0, cut)])
        deleted = list(result.values())[0].result(timeout=15)
        assert deleted.low_watermark == cut
        consumer = Consumer({"bootstrap.servers": broker.address, "group.id": "watermarks"})
        low, _ = consumer.get_watermark_offsets(TopicPartition("table", 0), timeout=10)
        consumer.close()
        assert low == cut
        assert all(offset >= cut for offset, _, _ in read_all(broker.address, "table"))
