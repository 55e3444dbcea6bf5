"""The broker with kafka-python (PyPI): its idempotent producer (the default) and a consumer
with assign(); a batch resent by hand gets its original offsets, out-of-order and fenced batches
are refused — also after a restart."""
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.protocol.consumer.offsets import OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse
from kafka.protocol.producer.transaction import InitProducerIdRequest, InitProducerIdResponse
from kafka.record.default_records import DefaultRecordBatchBuilder

from broker import Broker
from raw_client import RawClient


def test_idempotent_producer_and_assign_consumer(petrel, tmp_path):
    with Broker(petrel, tmp_path / "data") as broker:
        producer = KafkaProducer(bootstrap_servers=broker.address, acks="all")
        futures = [producer.send("kp", key=b"k%d" % i, value=b"v%d" % i, headers=[("n", b"%d" % i)]) for i in range(300)]
        producer.flush(20)
        assert [f.get(timeout=20).offset for f in futures] == list(range(300))
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=broker.address, enable_auto_commit=False, consumer_timeout_ms=5000)
        consumer.assign([TopicPartition("kp", 0)])
        consumer.seek_to_beginning()
        messages = [m for m in consumer]
        consumer.close()
        assert [m.value for m in messages] == [b"v%d" % i for i in range(300)]
        assert messages[42].headers == [("n", b"42")]


def batch(producer_id, epoch, sequence, count=3):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=producer_id,
                                        producer_epoch=epoch, base_sequence=sequence, batch_size=1 << 20)
    # Timestamps of now: producers whose last batch is older than producer.id.expiration.ms
    # (a day) are forgotten, as in Kafka.
    now_ms = int(time.time() * 1000)
    for i in range(count):
        builder.append(i, timestamp=now_ms + i, key=None, value=b"seq %d" % (sequence + i), headers=[])
    return bytes(builder.build())


def produce(client, records, topic="dedup"):
    data = ProduceRequest.TopicProduceData
    request = ProduceRequest[9](transactional_id=None, acks=-1, timeout_ms=5000,
                                topic_data=[data(name=topic, partition_data=[data.PartitionProduceData(index=0, records=records)])])
    partition = client.call(request, ProduceResponse).responses[0].partition_responses[0]
    return partition.error_code, partition.base_offset


def test_resent_batches_get_their_original_offsets(petrel, tmp_path):
    data = tmp_path / "data"
    with Broker(petrel, data) as broker:
        client = RawClient(broker.port)
        init = client.call(InitProducerIdRequest[4](transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1),
                           InitProducerIdResponse)
        assert init.error_code == 0 and init.producer_epoch == 0
        pid = init.producer_id
        assert produce(client, batch(pid, 0, 0)) == (0, 0)
        assert produce(client, batch(pid, 0, 3)) == (0, 3)
        assert produce(client, batch(pid, 0, 0)) == (0, 0), "a resent batch gets its original offsets"
        assert produce(client, batch(pid, 0, 3)) == (0, 3)
        assert produce(client, batch(pid, 0, 9))[0] == 45, "a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER"
        assert produce(client, batch(pid, 1, 0)) == (0, 6), "a new epoch starts at sequence 0"
        assert produce(client, batch(pid, 0, 6))[0] == 47, "an older epoch is INVALID_PRODUCER_EPOCH"
        topic = OffsetForLeaderEpochRequest.OffsetForLeaderTopic
        request = OffsetForLeaderEpochRequest[4](replica_id=-1, topics=[topic(topic="dedup", partitions=[
            topic.OffsetForLeaderPartition(partition=0, current_leader_epoch=0, leader_epoch=0)])])
        epoch_end = client.call(request, OffsetForLeaderEpochResponse).topics[0].partitions[0]
        assert (epoch_end.error_code, epoch_end.leader_epoch, epoch_end.end_offset) == (0, 0, 9)
        client.close()
    with Broker(petrel, data) as broker:
        client = RawClient(broker.port)
        assert produce(client, batch(pid, 1, 0)) == (0, 6), "producer state survives a restart"
        assert produce(client, batch(pid, 1, 3)) == (0, 9)
        client.close()


def test_produce_errors_corrupt_too_large_and_unknown_topic(petrel, tmp_path):
    config = tmp_path / "broker.properties"
    config.write_text("message.max.bytes=2000\nauto.create.topics.enable=false\n")
    with Broker(petrel, tmp_path / "data", extra_args=["--config", str(config)]) as broker:
        client = RawClient(broker.port)
        from kafka.admin import KafkaAdminClient, NewTopic
        admin = KafkaAdminClient(bootstrap_servers=broker.address)
        admin.create_topics([NewTopic("errors", num_partitions=1, replication_factor=1)])
        admin.close()
        good = batch(-1, -1, -1)
        assert produce(client, good, topic="errors") == (0, 0)
        corrupt = bytearray(good)
        corrupt[-2] ^= 0x01
        assert produce(client, bytes(corrupt), topic="errors")[0] == 2, "CORRUPT_MESSAGE"
        big = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1, producer_epoch=-1,
                                        base_sequence=-1, batch_size=1 << 20)
        big.append(0, timestamp=1, key=None, value=b"x" * 5000, headers=[])
        assert produce(client, bytes(big.build()), topic="errors")[0] == 10, "MESSAGE_TOO_LARGE"
        assert produce(client, good, topic="nowhere")[0] == 3, "UNKNOWN_TOPIC_OR_PARTITION without auto-create"
        assert produce(client, good, topic="errors") == (0, 3), "nothing of the refused batches was written"
        client.close()

