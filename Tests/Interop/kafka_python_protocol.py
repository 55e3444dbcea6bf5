"""kafka-python's own protocol codec, driven from Petrel's Swift tests:

  encode-request API VERSION        prints the hex of a canonical request (header v1/v2 + body)
  decode-response API VERSION HEX   decodes a response (header + body) and prints it as JSON
  batch                             reads JSON lines {"name", "version", "hex"} (a message body
                                    by Petrel) and prints one JSON line each: kafka-python's
                                    decoding re-encoded ("hex"), or why not ("status")

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


def message_classes():
    """Every request and response class kafka-python defines, by schema name."""
    import importlib
    import pkgutil
    import kafka.protocol
    from kafka.protocol.api_message import ApiMessage
    for module in pkgutil.walk_packages(kafka.protocol.__path__, "kafka.protocol."):
        try:
            importlib.import_module(module.name)
        except Exception:  # a module that does not import is no class to check against
            pass
    found, pending = {}, [ApiMessage]
    while pending:
        for cls in pending.pop().__subclasses__():
            pending.append(cls)
            if getattr(cls, "_class_version", 1) is None and getattr(cls, "_json", None):
                found.setdefault(cls._json["name"], cls)
    return found


def versions(text):
    low, _, high = text.partition("-")
    if low.endswith("+"):
        return int(low[:-1]), 1 << 15
    return int(low), int(high or low)


def reencode_batch():
    import io
    classes = message_classes()
    for line in sys.stdin:
        item = json.loads(line)
        name, version = item["name"], item["version"]
        cls = classes.get(name)
        result = {"name": name, "version": version}
        if cls is None:
            result["status"] = "no such message in kafka-python"
        elif not versions(cls._json["validVersions"])[0] <= version <= versions(cls._json["validVersions"])[1]:
            result["status"] = "kafka-python has versions %s" % cls._json["validVersions"]
        else:
            data = io.BytesIO(bytes.fromhex(item["hex"]))
            try:
                decoded = cls.decode(data, version=version, header=False)
                decoded._header = None  # decode() skips __init__, which encode() relies on
                rest = data.read()
                if rest:
                    result["status"] = "%d bytes left after decoding" % len(rest)
                else:
                    result["status"] = "ok"
                    result["hex"] = bytes(decoded.encode(version=version, header=False)).hex()
            except Exception as error:  # reported to the Swift test, which fails on it
                result["status"] = "error: %r" % (error,)
        print(json.dumps(result, sort_keys=True), flush=True)


def main():
    if sys.argv[1] == "batch":
        reencode_batch()
        return
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
