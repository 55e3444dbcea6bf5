"""kafka-python's own protocol codec, driven from Petrel's Swift tests:

  encode-request API VERSION        prints the hex of a canonical request (header v1/v2 + body)
  decode-response API VERSION HEX   decodes a response (header + body) and prints it as JSON

API is api_versions, metadata, produce, fetch or list_offsets. The canonical requests are what
PetrelProtocolTests expect."""
import json
import sys
import uuid

from kafka.protocol.consumer.fetch import FetchRequest, FetchResponse
from kafka.protocol.consumer.offsets import ListOffsetsRequest, ListOffsetsResponse
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse
from kafka.protocol.producer.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder

RESPONSES = {"api_versions": ApiVersionsResponse, "metadata": MetadataResponse, "produce": ProduceResponse,
             "fetch": FetchResponse, "list_offsets": ListOffsetsResponse}


def batch(tag):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for i in range(3):
        builder.append(i, timestamp=1_700_000_000_000 + i, key=b"k%d" % i, value=b"value %s-%d" % (tag, i), headers=[])
    return bytes(builder.build())

CORRELATION_ID = 7
CLIENT_ID = "cid"


def request(api, version):
    if api == "api_versions":
        if version >= 3:
            return ApiVersionsRequest[version](client_software_name="kafka-python", client_software_version="3.0.12")
        return ApiVersionsRequest[version]()
    if api == "produce":
        data = ProduceRequest.TopicProduceData
        partitions = [data.PartitionProduceData(index=0, records=batch(b"a")), data.PartitionProduceData(index=1, records=batch(b"b"))]
        return ProduceRequest[version](transactional_id=None, acks=-1, timeout_ms=1500,
                                       topic_data=[data(name="orders", partition_data=partitions)])
    if api == "fetch":
        topic = FetchRequest.FetchTopic
        partitions = [topic.FetchPartition(partition=0, current_leader_epoch=-1, fetch_offset=5, last_fetched_epoch=-1,
                                           log_start_offset=-1, partition_max_bytes=65536),
                      topic.FetchPartition(partition=1, current_leader_epoch=-1, fetch_offset=7, last_fetched_epoch=-1,
                                           log_start_offset=-1, partition_max_bytes=65536)]
        return FetchRequest[version](replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=1 << 20, isolation_level=1,
                                     session_id=0, session_epoch=-1, topics=[topic(topic="orders", partitions=partitions)],
                                     forgotten_topics_data=[], rack_id="")
    if api == "list_offsets":
        topic = ListOffsetsRequest.ListOffsetsTopic
        partitions = [topic.ListOffsetsPartition(partition_index=0, current_leader_epoch=-1, timestamp=-2),
                      topic.ListOffsetsPartition(partition_index=1, current_leader_epoch=-1, timestamp=1_700_000_000_001)]
        return ListOffsetsRequest[version](replica_id=-1, isolation_level=0, topics=[topic(name="orders", partitions=partitions)])
    topic = MetadataRequest.MetadataRequestTopic
    if version >= 10:
        topics = [topic(topic_id=uuid.UUID(int=0), name=n) for n in ("orders", "payments")]
    else:
        topics = [topic(name=n) for n in ("orders", "payments")]
    kwargs = {"topics": topics}
    if version >= 4:
        kwargs["allow_auto_topic_creation"] = False
    if version >= 8:
        kwargs["include_topic_authorized_operations"] = True
    return MetadataRequest[version](**kwargs)


def plain(value):
    """Decoded kafka-python objects as JSON-friendly values."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(getattr(value, "fields", None), dict):
        return {name: plain(getattr(value, name)) for name in value.fields}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    return value


def main():
    command, api, version = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if command == "encode-request":
        message = request(api, version)
        message.with_header(correlation_id=CORRELATION_ID, client_id=CLIENT_ID)
        print(message.encode(header=True).hex())
    elif command == "decode-response":
        cls = RESPONSES[api]
        decoded = cls.decode(bytes.fromhex(sys.argv[4]), version=version, header=True)
        print(json.dumps({"correlation_id": decoded._header.correlation_id, "body": plain(decoded)}, sort_keys=True))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
