"""Fuzzing the broker: >= 100,000 mutated request frames of every API it advertises, while a
steady producer and consumer (confluent-kafka) beside it see no error and no loss.

The frames: for each API the broker's ApiVersions answer names, and each version in its range,
valid requests encoded by kafka-python's protocol classes (Produce with real record batches in
every codec, Fetch naming partitions several times, Metadata with topic names, CreateTopics,
DeleteTopics and CreatePartitions on topics of the fuzz namespace `fz`, ...). Each frame sent is
one of those, mutated (bit flips, byte replacement, truncation, length and count fields set to
huge, negative or zero values, splices of two frames, garbage bodies behind a valid header, a
wrong API key or version, record batches changed behind a recomputed CRC, a wrong size prefix)
or, sometimes, left valid. Which frame and which mutation is a function of the seed and the
frame's index alone, so any frame can be made again:

  PETREL_FUZZ_SEED=S   the seed (random when unset; printed at the start and in every failure)
  PETREL_FUZZ_FRAMES=N how many frames (default 100,000; 500,000 with PETREL_LONG_TESTS=1)
  PETREL_FUZZ_AVOID_KNOWN=1  keeps away from the crashes known when this test was written
                       (a CreateTopics/CreatePartitions frame that asks for more than 64
                       partitions is sent unmutated instead, and there is no
                       Fetch whose response passes 2 GiB); off by default
  python3 Tests/Interop/test_broker_fuzz.py --seed S --port P --frames I,J,...
                       sends frames I, J, ... of seed S, alone and in that order, to a broker
                       listening on 127.0.0.1:P, and prints what it answers

Frames go over CONNECTIONS sockets from one non-blocking loop, so that each frame is the first
thing the broker reads after the previous one was done with: each socket has one frame in
flight; the next goes when the broker answered it (the correlation id is the frame's index),
closed the connection (a new one is opened), or stayed silent: ANSWER_S for a frame that wants
an answer (then the connection is replaced, as a long poll would hold up what follows),
SILENT_S for one that wants none (Produce with acks=0) or whose size prefix promises more bytes
than it has (the next frame on that connection gives them, desynchronising the stream, and then
the connection is replaced). Responses are counted, not kept. Every BIG_FETCH_EVERY frames, one
is a Fetch naming BIG_TOPIC's partition BIG_FETCH_NAMINGS times without a byte bound (~2 GiB).

Beside it, a confluent-kafka producer (acks=all, idempotent) sends numbered messages to
STEADY_TOPIC at STEADY_RATE and an assign() consumer reads them: at the end every acknowledged
message must have been consumed exactly once and in order, neither may have seen an error, and
the broker must be alive and answer ApiVersions and Metadata. The steady topic's name is long
and shares nothing with the fuzz names, so no mutation of a fuzz frame can name it. The data
directory is in /dev/shm where there is one (the frames create and delete topics all the time,
and each fsyncs the directory)."""
import collections
import gzip
import os
import random
import pathlib
import selectors
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
from unittest import mock

from kafka.protocol.admin.configs import DescribeConfigsRequest
from kafka.protocol.admin.topics import CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest
from kafka.protocol.api_message import ApiMessage
from kafka.protocol.consumer.fetch import FetchRequest
from kafka.protocol.consumer.offsets import ListOffsetsRequest, OffsetForLeaderEpochRequest
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse
from kafka.protocol.producer.produce import ProduceRequest
from kafka.protocol.producer.transaction import InitProducerIdRequest
from kafka.record import default_records
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder
from kafka.record.util import calc_crc32c

LONG = os.environ.get("PETREL_LONG_TESTS") == "1"
FRAMES = int(os.environ.get("PETREL_FUZZ_FRAMES") or (500_000 if LONG else 100_000))
AVOID_KNOWN = os.environ.get("PETREL_FUZZ_AVOID_KNOWN") == "1"

STEADY_TOPIC = "petrel-steady-interop-topic-that-the-fuzzer-never-names-0123456789"
FUZZ_TOPICS = ("fz0", "fz1", "fz2", "fz3")
BIG_TOPIC = "fzbig"            # holds ~1 MiB for the Fetch that names it thousands of times
CLIENT_ID = "fz"
CONNECTIONS = 24
ANSWER_S = 2.0                 # no answer after this (nor a byte of one): the frame is silent
SILENT_S = 0.05                # the same for a frame that wants none (acks=0, a size prefix too large)
DESYNC_S = 0.2                 # the same for the frame sent after one whose size prefix is too large
STALL_S = 3.0                  # a connection that takes no byte or answers nothing for this long is replaced
BIG_FETCH_EVERY = 25_000       # frame i with i % BIG_FETCH_EVERY == BIG_FETCH_EVERY // 2
BIG_FETCH_NAMINGS = 2_200
STEADY_RATE = 200              # messages per second
PARTITION_DIRECTORIES_MAX = 20_000

REQUESTS = {cls.API_KEY: cls for cls in (
    ProduceRequest, FetchRequest, ListOffsetsRequest, MetadataRequest, ApiVersionsRequest, CreateTopicsRequest,
    DeleteTopicsRequest, InitProducerIdRequest, OffsetForLeaderEpochRequest, DescribeConfigsRequest, CreatePartitionsRequest)}


def request_class(api_key):
    """kafka-python's request class for an API key: ours above, or any it has."""
    if api_key in REQUESTS:
        return REQUESTS[api_key]
    pending = list(ApiMessage.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        try:
            if cls.is_request() and cls.API_KEY == api_key:
                return cls
        except Exception:  # pragma: no cover - classes without a schema
            continue
    return None


# ---------------------------------------------------------------------------------------------
# Valid frames


def deterministic_gzip(payload):
    return gzip.compress(payload, compresslevel=6, mtime=0)


def record_batch(codec, count, value_size, producer_id=-1, epoch=-1, sequence=-1, transactional=False, tag=b""):
    with mock.patch.object(default_records, "gzip_encode", deterministic_gzip):
        builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=transactional,
                                            producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence,
                                            batch_size=1 << 22)
        for i in range(count):
            headers = [("h", b"%d" % i)] if i % 2 else []
            builder.append(i, timestamp=1_700_000_000_000 + i, key=b"k%d" % i if i % 3 else None,
                           value=(b"fuzz %s %d " % (tag, i)).ljust(value_size, b"x"), headers=headers)
        return bytes(builder.build())


def legacy_batch(magic, codec):
    with mock.patch("kafka.record.legacy_records.gzip_encode", deterministic_gzip):
        builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
        for i in range(3):
            builder.append(i, timestamp=1_700_000_000_000 + i if magic else None, key=b"k", value=b"legacy %d" % i)
        return bytes(builder.build())


def produce_bodies(version):
    """Produce requests: records in each codec, several partitions, idempotent and transactional
    batches, acks 0/1/-1; record batches v2 from version 3, legacy message sets before."""
    data = ProduceRequest.TopicProduceData
    part = data.PartitionProduceData
    out = []
    if version < 3:
        for magic, codec in ((0, 0), (1, 0), (1, 1), (1, 2)):
            out.append(dict(transactional_id=None, acks=-1, timeout_ms=1000,
                            topic_data=[data(name="fz0", partition_data=[part(index=0, records=legacy_batch(magic, codec))])]))
        return out
    for codec in (0, 1, 2, 3, 4):
        out.append(dict(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[
            data(name=FUZZ_TOPICS[codec % 4], partition_data=[part(index=0, records=record_batch(codec, 5, 40, tag=b"c%d" % codec))])]))
    out.append(dict(transactional_id=None, acks=1, timeout_ms=1000, topic_data=[
        data(name="fz1", partition_data=[part(index=0, records=record_batch(0, 2, 10)), part(index=1, records=record_batch(3, 3, 100)),
                                         part(index=0, records=record_batch(4, 1, 2000))]),
        data(name="fz2", partition_data=[part(index=0, records=record_batch(2, 4, 30) + record_batch(0, 2, 5))])]))
    out.append(dict(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[
        data(name="fz3", partition_data=[part(index=0, records=record_batch(1, 200, 50))])]))
    out.append(dict(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[
        data(name="fz0", partition_data=[part(index=0, records=record_batch(0, 3, 20, producer_id=7, epoch=0, sequence=0))])]))
    out.append(dict(transactional_id="fz-txn", acks=-1, timeout_ms=1000, topic_data=[
        data(name="fz1", partition_data=[part(index=0, records=record_batch(0, 2, 20, producer_id=9, epoch=0, sequence=0, transactional=True))])]))
    out.append(dict(transactional_id=None, acks=0, timeout_ms=1000, topic_data=[
        data(name="fz2", partition_data=[part(index=0, records=record_batch(3, 3, 30))])]))
    out.append(dict(transactional_id=None, acks=-1, timeout_ms=1000, topic_data=[
        data(name="fz0", partition_data=[part(index=0, records=None), part(index=5, records=b"")])]))
    if version >= 13:  # topics by id (none of ours is known by id)
        for body in out:
            for topic in body["topic_data"]:
                topic.topic_id = uuid.UUID(int=7)
    return out


def fetch_topic(name, partitions, offset=0, partition_max=1 << 20, times=1):
    topic = FetchRequest.FetchTopic
    return topic(topic=name, topic_id=uuid.UUID(int=0), partitions=[
        topic.FetchPartition(partition=p, current_leader_epoch=-1, fetch_offset=offset, last_fetched_epoch=-1,
                             log_start_offset=-1, partition_max_bytes=partition_max) for p in partitions for _ in range(times)])


def fetch_bodies(version):
    common = dict(replica_id=-1, session_id=0, session_epoch=-1, forgotten_topics_data=[], rack_id="", cluster_id=None)
    forgotten = FetchRequest.ForgottenTopic
    return [
        dict(common, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0, topics=[fetch_topic("fz0", [0])]),
        dict(common, max_wait_ms=20, min_bytes=1, max_bytes=1 << 16, isolation_level=1,
             topics=[fetch_topic("fz0", [0, 1], times=3), fetch_topic("fz1", [0])]),
        dict(common, max_wait_ms=10, min_bytes=1 << 20, max_bytes=0x7FFFFFFF, isolation_level=0,
             topics=[fetch_topic("fz2", [0], partition_max=0x7FFFFFFF, times=10)]),
        dict(common, max_wait_ms=0, min_bytes=0, max_bytes=100, isolation_level=0,
             topics=[fetch_topic("fz3", [0, 7], offset=5), fetch_topic("fz0", [0], offset=1 << 40), fetch_topic("nope", [0])]),
        dict(common, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0, session_id=5, session_epoch=3,
             topics=[fetch_topic(BIG_TOPIC, [0], partition_max=4096, times=2)],
             forgotten_topics_data=[forgotten(topic="fz1", topic_id=uuid.UUID(int=0), partitions=[0, 1])]),
        dict(common, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20, isolation_level=0, topics=[]),
    ]


def big_fetch_body():
    """One partition named thousands of times with no byte bound: ~2 GiB to send."""
    return dict(replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=0x7FFFFFFF, isolation_level=0, session_id=0,
                session_epoch=-1, topics=[fetch_topic(BIG_TOPIC, [0], partition_max=0x7FFFFFFF, times=BIG_FETCH_NAMINGS)],
                forgotten_topics_data=[], rack_id="", cluster_id=None)


def list_offsets_bodies(version):
    topic = ListOffsetsRequest.ListOffsetsTopic
    part = topic.ListOffsetsPartition

    def request(*topics, isolation=0):
        return dict(replica_id=-1, isolation_level=isolation, timeout_ms=1000, topics=list(topics))
    return [
        request(topic(name="fz0", partitions=[part(partition_index=0, current_leader_epoch=-1, timestamp=-2, max_num_offsets=1),
                                             part(partition_index=0, current_leader_epoch=-1, timestamp=-1, max_num_offsets=1)])),
        request(topic(name="fz1", partitions=[part(partition_index=p, current_leader_epoch=0, timestamp=t, max_num_offsets=1)
                                             for p in (0, 1, 2) for t in (1_700_000_000_001, -3, 0)]), isolation=1),
        request(topic(name="fz3", partitions=[part(partition_index=0, current_leader_epoch=-1, timestamp=-1, max_num_offsets=1)]),
                topic(name="fzbig", partitions=[part(partition_index=0, current_leader_epoch=-1, timestamp=1_700_000_000_500, max_num_offsets=1)])),
        request(),
    ]


def metadata_bodies(version):
    topic = MetadataRequest.MetadataRequestTopic

    def request(names, auto=False):
        topics = None if names is None else [topic(topic_id=uuid.UUID(int=0), name=n) for n in names]
        return dict(topics=topics, allow_auto_topic_creation=auto, include_cluster_authorized_operations=False,
                    include_topic_authorized_operations=version >= 8)
    out = [request(["fz0", "fz1"]), request(["fz2", "fz3", "fz2", "nope"], auto=True), request([]), request(["fzbig"])]
    if version >= 1:
        out.append(request(None))
    return out


def api_versions_bodies(version):
    return [dict(client_software_name="petrel-fuzz", client_software_version="1.0"), dict(client_software_name="", client_software_version="")]


def create_topics_bodies(version):
    topic = CreateTopicsRequest.CreatableTopic
    config = topic.CreatableTopicConfig
    assignment = topic.CreatableReplicaAssignment
    return [
        dict(topics=[topic(name="fz1", num_partitions=2, replication_factor=1, assignments=[], configs=[])], timeout_ms=1000, validate_only=False),
        dict(topics=[topic(name="fz2", num_partitions=-1, replication_factor=-1, assignments=[],
                           configs=[config(name="retention.ms", value="1000"), config(name="cleanup.policy", value=None)]),
                     topic(name="fz3", num_partitions=3, replication_factor=1, assignments=[], configs=[])], timeout_ms=1000, validate_only=False),
        dict(topics=[topic(name="fz0", num_partitions=1, replication_factor=3, assignments=[], configs=[])], timeout_ms=1000, validate_only=True),
        dict(topics=[topic(name="fz0", num_partitions=-1, replication_factor=-1,
                           assignments=[assignment(partition_index=0, broker_ids=[1])], configs=[])], timeout_ms=1000, validate_only=False),
    ]


def delete_topics_bodies(version):
    state = DeleteTopicsRequest.DeleteTopicState
    out = []
    for names in (["fz1"], ["fz2", "fz3"], ["fz0", "nope", "fz0"]):
        out.append(dict(topic_names=names, topics=[state(name=n, topic_id=uuid.UUID(int=0)) for n in names], timeout_ms=1000))
    return out


def create_partitions_bodies(version):
    topic = CreatePartitionsRequest.CreatePartitionsTopic
    assignment = topic.CreatePartitionsAssignment
    return [
        dict(topics=[topic(name="fz1", count=4, assignments=None)], timeout_ms=1000, validate_only=False),
        dict(topics=[topic(name="fz3", count=8, assignments=[assignment(broker_ids=[1])] * 5),
                     topic(name="fz0", count=2, assignments=None)], timeout_ms=1000, validate_only=False),
        dict(topics=[topic(name="fz2", count=6, assignments=None)], timeout_ms=1000, validate_only=True),
    ]


def describe_configs_bodies(version):
    resource = DescribeConfigsRequest.DescribeConfigsResource
    return [
        dict(resources=[resource(resource_type=2, resource_name="fz0", configuration_keys=None)], include_synonyms=False, include_documentation=False),
        dict(resources=[resource(resource_type=4, resource_name="1", configuration_keys=["num.partitions", "log.dirs"]),
                        resource(resource_type=2, resource_name="fz1", configuration_keys=["segment.bytes"]),
                        resource(resource_type=8, resource_name="x", configuration_keys=[])], include_synonyms=True, include_documentation=True),
    ]


def init_producer_id_bodies(version):
    return [
        dict(transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1),
        dict(transactional_id=None, transaction_timeout_ms=60000, producer_id=123456, producer_epoch=3),
        dict(transactional_id="fz-txn", transaction_timeout_ms=1000, producer_id=-1, producer_epoch=-1),
    ]


def offset_for_leader_epoch_bodies(version):
    topic = OffsetForLeaderEpochRequest.OffsetForLeaderTopic
    part = topic.OffsetForLeaderPartition
    return [
        dict(replica_id=-1, topics=[topic(topic="fz0", partitions=[part(partition=0, current_leader_epoch=0, leader_epoch=0)])]),
        dict(replica_id=-1, topics=[topic(topic="fz1", partitions=[part(partition=p, current_leader_epoch=-1, leader_epoch=e)
                                                                   for p in (0, 1, 9) for e in (0, 5)]),
                                    topic(topic="nope", partitions=[part(partition=0, current_leader_epoch=0, leader_epoch=0)])]),
    ]


BODIES = {0: produce_bodies, 1: fetch_bodies, 2: list_offsets_bodies, 3: metadata_bodies, 18: api_versions_bodies,
          19: create_topics_bodies, 20: delete_topics_bodies, 22: init_producer_id_bodies, 23: offset_for_leader_epoch_bodies,
          32: describe_configs_bodies, 37: create_partitions_bodies}


def encode(cls, version, body, correlation_id=0):
    message = cls[version](**body)
    message.with_header(correlation_id=correlation_id, client_id=CLIENT_ID)
    return bytes(message.encode(header=True, framed=True))


def header_only_frame(api_key, version):
    """For an advertised API kafka-python has no class for: the header alone."""
    body = struct.pack(">hhih", api_key, version, 0, len(CLIENT_ID)) + CLIENT_ID.encode()
    return struct.pack(">i", len(body)) + body


# ---------------------------------------------------------------------------------------------
# Where the length, count and integer fields of a valid frame are (from kafka-python's schemas)


def in_versions(spec, version):
    if spec in (None, "none", ""):
        return False
    if spec.endswith("+"):
        return version >= int(spec[:-1])
    if "-" in spec:
        low, high = spec.split("-")
        return int(low) <= version <= int(high)
    return version == int(spec)


def read_uvarint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def write_uvarint(value):
    value &= 0xFFFFFFFF
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


FIXED = {"int8": 1, "bool": 1, "int16": 2, "uint16": 2, "int32": 4, "int64": 8, "float64": 8, "uuid": 16}


class Fields:
    """Positions in a frame (size prefix included): (position, width or 'v' for a uvarint, kind,
    name); kinds are count, length, int. `records`: (position, length) of record data."""

    def __init__(self):
        self.fields, self.records = [], []


def walk_frame(cls, version, frame):
    """The fields of a valid frame, found by walking it with the request's schema; None when the
    walk does not end exactly at the frame's end (it then gets no field-aware mutation)."""
    flexible = cls.flexible_version_q(version)
    found = Fields()
    pos = 4 + 8
    found.fields += [(4, 2, "int", "api_key"), (6, 2, "int", "api_version"), (8, 4, "int", "correlation_id"), (12, 2, "length", "client_id")]
    (length,) = struct.unpack_from(">h", frame, 12)
    pos = 14 + max(0, length)
    try:
        if flexible:
            pos = walk_tags(frame, pos, found)
        pos = walk_fields(cls._json["fields"], frame, pos, version, flexible, found)
    except (IndexError, struct.error):
        return None
    return found if pos == len(frame) else None


def walk_tags(frame, pos, found):
    found.fields.append((pos, "v", "count", "tagged_fields"))
    count, pos = read_uvarint(frame, pos)
    for _ in range(count):
        _, pos = read_uvarint(frame, pos)
        found.fields.append((pos, "v", "length", "tagged_field_size"))
        size, pos = read_uvarint(frame, pos)
        pos += size
    return pos


def walk_fields(fields, frame, pos, version, flexible, found):
    for field in fields:
        if not in_versions(field.get("versions"), version):
            continue
        if flexible and in_versions(field.get("taggedVersions"), version):
            continue  # in the tagged section
        pos = walk_value(field, field["type"], frame, pos, version, flexible, found)
    if flexible:
        pos = walk_tags(frame, pos, found)
    return pos


def walk_value(field, type_name, frame, pos, version, flexible, found):
    name = field["name"]
    if type_name.startswith("[]"):
        found.fields.append((pos, "v" if flexible else 4, "count", name))
        if flexible:
            count, pos = read_uvarint(frame, pos)
            count -= 1
        else:
            (count,) = struct.unpack_from(">i", frame, pos)
            pos += 4
        inner = type_name[2:]
        for _ in range(max(0, count)):
            if "fields" in field:
                pos = walk_fields(field["fields"], frame, pos, version, flexible, found)
            else:
                pos = walk_value(field, inner, frame, pos, version, flexible, found)
        return pos
    if "fields" in field:
        return walk_fields(field["fields"], frame, pos, version, flexible, found)
    if type_name in FIXED:
        width = FIXED[type_name]
        if type_name in ("int16", "int32", "int64", "uint16"):
            found.fields.append((pos, width, "int", name))
        struct.unpack_from("%dB" % width, frame, pos)
        return pos + width
    if type_name in ("string", "bytes", "records"):
        found.fields.append((pos, "v" if flexible else (2 if type_name == "string" else 4), "length", name))
        if flexible:
            size, pos = read_uvarint(frame, pos)
            size -= 1
        else:
            fmt = ">h" if type_name == "string" else ">i"
            (size,) = struct.unpack_from(fmt, frame, pos)
            pos += struct.calcsize(fmt)
        if size > 0:
            if type_name == "records":
                found.records.append((pos, size))
            if pos + size > len(frame):
                raise IndexError
            pos += size
        return pos
    raise ValueError(f"unknown type {type_name} in {field}")


# ---------------------------------------------------------------------------------------------
# The corpus and the mutations


class Corpus:
    """Valid frames for every advertised API and version, with their fields."""

    def __init__(self, advertised):
        self.advertised = sorted(advertised.items())  # [(api_key, (min, max))]
        self.frames = {}  # (api_key, version) -> [(frame, Fields or None)]
        self.unwalked = []
        self.unanswered = set()  # Produce with acks=0
        for api_key, (low, high) in self.advertised:
            cls = request_class(api_key)
            for version in range(low, high + 1):
                entries = []
                if cls is None or version > cls.max_version:
                    entries.append((header_only_frame(api_key, version), None))
                else:
                    makers = BODIES.get(api_key, lambda v: [{}])
                    for body in makers(version):
                        frame = encode(cls, version, body)
                        fields = walk_frame(cls, version, frame)
                        if fields is None:
                            self.unwalked.append((api_key, version))
                        entries.append((frame, fields))
                        if body.get("acks") == 0:
                            self.unanswered.add(frame)
                self.frames[(api_key, version)] = entries
        self.all = [(key, entry) for key, entries in self.frames.items() for entry in entries]
        self.big_fetch = encode(FetchRequest, self.version_of(1), big_fetch_body()) if 1 in advertised else None

    def version_of(self, api_key):
        return dict(self.advertised)[api_key][1]


INTERESTING = {
    1: (0, 1, 0x7F, 0x80, 0xFF),
    2: (0, 1, -1, -2, 0x7FFF, -0x8000, 0xFF, 0x100),
    4: (0, 1, -1, -2, 0x7FFFFFFF, -0x80000000, 0xFFFF, 0x10000, 1_000_000, 0x7FFFFFFE),
    8: (0, 1, -1, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000, 1 << 32, 1 << 40),
}
INTERESTING_VARINTS = (0, 1, 2, 0x7F, 0x80, 0x3FFF, 0x4000, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1_000_001)
FORMATS = {1: ">B", 2: ">h", 4: ">i", 8: ">q"}


def fix_size(frame):
    frame[0:4] = struct.pack(">i", len(frame) - 4)
    return frame


def put_int(frame, pos, width, value):
    if pos + width > len(frame):
        return  # a frame truncated before the field
    if width == 1:
        frame[pos] = value & 0xFF
    else:
        bits = 8 * width
        value = ((value + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))
        struct.pack_into(FORMATS[width], frame, pos, value)


def replace_uvarint(frame, pos, value):
    """Replaces the uvarint at pos with another (possibly longer or malformed) one."""
    end = pos
    while end < len(frame) and frame[end] & 0x80 and end - pos < 5:
        end += 1
    end += 1
    new = b"\xff\xff\xff\xff\xff\x01" if value is None else write_uvarint(value)
    frame[pos:end] = new
    return frame


class Mutator:
    KINDS = (("valid", 6), ("bitflip", 14), ("bytes", 10), ("truncate", 10), ("field", 22), ("batch", 8),
             ("splice", 8), ("garbage", 6), ("version", 8), ("insert", 4), ("repeat", 4))

    def __init__(self, corpus, seed):
        self.corpus, self.seed = corpus, seed
        self.rng = random.Random()
        self.kinds = [k for k, _ in self.KINDS]
        self.weights = [w for _, w in self.KINDS]

    def frame(self, index):
        """Frame `index` of this seed: (bytes, api_key, version, description, expect), expect
        being "answer", "none" (acks=0), "more bytes" (a size prefix beyond the frame's end) or
        "leftover" (a size prefix short of it).
        Depends only on (seed, index) and the corpus."""
        rng = self.rng
        rng.seed((self.seed << 40) | index)
        if self.corpus.big_fetch and index % BIG_FETCH_EVERY == BIG_FETCH_EVERY // 2 and not AVOID_KNOWN:
            frame = bytearray(self.corpus.big_fetch)
            struct.pack_into(">i", frame, 8, index & 0x7FFFFFFF)
            return (bytes(frame), 1, self.corpus.version_of(1),
                    f"big fetch: {BIG_TOPIC}-0 named {BIG_FETCH_NAMINGS} times, no byte bound", "answer")
        api_key, (low, high) = rng.choice(self.corpus.advertised)
        version = rng.randint(low, high)
        source, fields = rng.choice(self.corpus.frames[(api_key, version)])
        frame = bytearray(source)
        struct.pack_into(">i", frame, 8, index & 0x7FFFFFFF)  # correlation id
        steps = []
        kind = rng.choices(self.kinds, self.weights)[0]
        if fields is not None and fields.records and rng.random() < 0.3:
            kind = "batch"  # a third of the Produce frames: inside the record batch
        if kind != "valid":
            frame = self.mutate(rng, kind, frame, fields, api_key, steps)
            if rng.random() < 0.25:
                kind = rng.choices(self.kinds[1:], self.weights[1:])[0]
                frame = self.mutate(rng, kind, frame, None, api_key, steps)
        if rng.random() < 0.03:
            frame = self.wrong_size(rng, frame, steps)
        if AVOID_KNOWN and self.asks_for_many_partitions(frame):
            frame = bytearray(source)
            struct.pack_into(">i", frame, 8, index & 0x7FFFFFFF)
            steps = [f"valid (PETREL_FUZZ_AVOID_KNOWN: instead of {'; '.join(steps)}, which asks for more than 64 partitions)"]
        size = struct.unpack_from(">i", frame)[0] if len(frame) >= 4 else 0
        if size > len(frame) - 4:
            expect = "more bytes"
        elif 0 <= size < len(frame) - 4:
            expect = "leftover"  # answered (or closed) on its first `size` bytes; the rest begins another frame
        else:
            expect = "none" if source in self.corpus.unanswered else "answer"
        return bytes(frame), api_key, version, "; ".join(steps) or "valid", expect

    def mutate(self, rng, kind, frame, fields, api_key, steps):
        body_start = 4
        n = len(frame)
        if kind == "bitflip":
            flips = rng.choice((1, 1, 2, 3, 8))
            where = [rng.randrange(body_start, n) for _ in range(flips)] if n > body_start else []
            for pos in where:
                frame[pos] ^= 1 << rng.randrange(8)
            steps.append(f"bitflip at {where}")
        elif kind == "bytes":
            count = rng.choice((1, 1, 2, 4))
            where = []
            for _ in range(count):
                if n <= body_start:
                    break
                pos = rng.randrange(body_start, n)
                frame[pos] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
                where.append(pos)
            steps.append(f"bytes replaced at {where}")
        elif kind == "truncate":
            cut = rng.randrange(4, max(5, n))
            frame = frame[:cut]
            if rng.random() < 0.8:
                fix_size(frame)
                steps.append(f"truncated to {cut}, size fixed")
            else:
                steps.append(f"truncated to {cut}, size prefix kept ({n - 4})")
        elif kind == "field":
            if fields is None or not fields.fields:
                return self.mutate(rng, "bytes", frame, fields, api_key, steps)
            pos, width, field_kind, name = rng.choice(fields.fields)
            if width == "v":
                value = rng.choice(INTERESTING_VARINTS + (None,))
                frame = fix_size(replace_uvarint(frame, pos, value))
                steps.append(f"uvarint {field_kind} {name} at {pos} := {'malformed' if value is None else value}")
            else:
                if field_kind == "int" and rng.random() < 0.3:
                    (old,) = struct.unpack_from(FORMATS[width], frame, pos)
                    value = old + rng.choice((-1, 1, 1000, -1000))
                else:
                    value = rng.choice(INTERESTING[width])
                put_int(frame, pos, width, value)
                steps.append(f"{field_kind} {name} at {pos} := {value}")
        elif kind == "batch":
            if fields is None or not fields.records:
                return self.mutate(rng, "field", frame, fields, api_key, steps)
            frame = self.mutate_batch(rng, frame, rng.choice(fields.records), steps)
        elif kind == "splice":
            other, _ = rng.choice(self.corpus.all)[1]
            a = rng.randrange(4, max(5, n))
            b = rng.randrange(4, max(5, len(other)))
            frame = fix_size(frame[:a] + other[b:])
            steps.append(f"splice: [:{a}] + another frame's [{b}:] ({other[4:6].hex()} v{struct.unpack_from('>h', other, 6)[0]})")
        elif kind == "garbage":
            (client_length,) = struct.unpack_from(">h", frame, 12) if n >= 14 else (0,)
            header = frame[:14 + max(0, client_length)]
            size = rng.choice((0, 1, 2, 3, 4, 7, 8, 16, 64, 256, 1024, rng.randrange(4096)))
            frame = fix_size(header + rng.randbytes(size))
            steps.append(f"garbage body of {size} bytes")
        elif kind == "version":
            choice = rng.random()
            if choice < 0.6:
                low, high = dict(self.corpus.advertised)[api_key]
                version = rng.choice((low - 1, high + 1, -1, 0x7FFF, -0x8000, rng.randint(low, high)))
                put_int(frame, 6, 2, version)
                steps.append(f"api_version := {version}")
            else:
                key = rng.choice([k for k, _ in self.corpus.advertised] + [8, 9, 10, 11, 99, -1, 0x7FFF])
                put_int(frame, 4, 2, key)
                steps.append(f"api_key := {key}")
        elif kind == "insert":
            pos = rng.randrange(4, n + 1)
            extra = rng.randbytes(rng.choice((1, 2, 4, 8, 100)))
            frame = fix_size(frame[:pos] + extra + frame[pos:])
            steps.append(f"{len(extra)} bytes inserted at {pos}")
        elif kind == "repeat":
            # A slice of the body repeated: arrays with many more elements than their count says.
            if n <= 5:
                return frame
            a = rng.randrange(4, n)
            b = min(n, a + rng.randrange(1, 64))
            times = rng.choice((2, 10, 100))
            frame = fix_size(frame[:b] + frame[a:b] * times + frame[b:])
            steps.append(f"[{a}:{b}] repeated {times} times")
        return frame

    BATCH_FIELDS = ((0, 8, "baseOffset"), (8, 4, "batchLength"), (12, 4, "partitionLeaderEpoch"), (16, 1, "magic"),
                    (17, 4, "crc"), (21, 2, "attributes"), (23, 4, "lastOffsetDelta"), (27, 8, "baseTimestamp"),
                    (35, 8, "maxTimestamp"), (43, 8, "producerId"), (51, 2, "producerEpoch"), (53, 4, "baseSequence"),
                    (57, 4, "recordCount"))

    def mutate_batch(self, rng, frame, region, steps):
        """A record batch (v2) inside Produce changed, mostly with its CRC recomputed so that the
        change reaches the record parser and the decompressors."""
        start, length = region
        if length < 61 or frame[start + 16] != 2:
            pos = rng.randrange(start, start + length)
            frame[pos] ^= 1 << rng.randrange(8)
            steps.append(f"records bitflip at {pos}")
            return frame
        (batch_length,) = struct.unpack_from(">i", frame, start + 8)
        end = min(start + length, start + 12 + batch_length)
        if rng.random() < 0.5:
            offset, width, name = rng.choice(self.BATCH_FIELDS)
            value = rng.choice(INTERESTING[width])
            put_int(frame, start + offset, width, value)
            steps.append(f"batch {name} := {value}")
        else:
            flips = [rng.randrange(start + 61, end) for _ in range(rng.choice((1, 2, 4)))] if end > start + 61 else []
            for pos in flips:
                frame[pos] = rng.randrange(256) if rng.random() < 0.5 else frame[pos] ^ (1 << rng.randrange(8))
            steps.append(f"batch records bytes changed at {flips}")
        if rng.random() < 0.85 and end <= len(frame):
            struct.pack_into(">I", frame, start + 17, calc_crc32c(memoryview(frame)[start + 21:end]))
            steps.append("crc recomputed")
        return frame

    def wrong_size(self, rng, frame, steps):
        real = len(frame) - 4
        size = rng.choice((real + 1, real - 1, real + 100, 0, -1, -0x80000000, 0x7FFFFFFF, (100 << 20) + 1))
        struct.pack_into(">i", frame, 0, size)
        steps.append(f"size prefix := {size} (real {real})")
        return frame

    def asks_for_many_partitions(self, frame):
        """PETREL_FUZZ_AVOID_KNOWN: whether a (mutated) frame reads, in Kafka's wire format, as a
        CreateTopics or CreatePartitions asking for more than 64 partitions in some topic (read
        as far as the bytes go, without caring for what follows)."""
        if len(frame) < 14:
            return False
        key, version = struct.unpack_from(">hh", frame, 4)
        low, high = dict(self.corpus.advertised).get(key, (0, -1))
        if key not in (19, 37) or not low <= version <= high:
            return False
        flexible = version >= (5 if key == 19 else 2)
        counts = []

        def varint(pos):
            value, pos = read_uvarint(frame, pos)
            return value, pos

        def count(pos):
            if flexible:
                value, pos = varint(pos)
                return value - 1, pos
            return struct.unpack_from(">i", frame, pos)[0], pos + 4

        def string(pos):
            if flexible:
                length, pos = varint(pos)
                return pos + max(0, length - 1)
            return pos + 2 + max(0, struct.unpack_from(">h", frame, pos)[0])

        def tags(pos):
            n, pos = varint(pos)
            for _ in range(min(n, 1000)):
                _, pos = varint(pos)
                size, pos = varint(pos)
                pos += size
            return pos
        try:
            pos = 14 + max(0, struct.unpack_from(">h", frame, 12)[0])
            if flexible:
                pos = tags(pos)
            topics, pos = count(pos)
            for _ in range(min(topics, 10_000)):
                pos = string(pos)
                counts.append(struct.unpack_from(">i", frame, pos)[0])
                pos += 4
                if key == 19:
                    pos += 2  # replication factor
                    assignments, pos = count(pos)
                    for _ in range(min(max(0, assignments), 10_000)):
                        pos += 4
                        brokers, pos = count(pos)
                        pos += 4 * max(0, brokers)
                        pos = tags(pos) if flexible else pos
                    configs, pos = count(pos)
                    for _ in range(min(max(0, configs), 10_000)):
                        pos = string(string(pos))
                        pos = tags(pos) if flexible else pos
                else:
                    assignments, pos = count(pos)
                    for _ in range(min(max(0, assignments), 10_000)):
                        brokers, pos = count(pos)
                        pos += 4 * max(0, brokers)
                        pos = tags(pos) if flexible else pos
                pos = tags(pos) if flexible else pos
        except (IndexError, struct.error, OverflowError):
            pass  # the bytes end (or a length points beyond them): what was read so far counts
        return any(c > 64 for c in counts)


# ---------------------------------------------------------------------------------------------
# Talking to the broker


def api_versions(port, timeout=10):
    """The broker's ApiVersions answer (v0): {api_key: (min, max)}."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        request = ApiVersionsRequest[0]()
        request.with_header(correlation_id=1, client_id="fz-check")
        raw.sendall(request.encode(header=True, framed=True))
        response = ApiVersionsResponse.decode(read_response(raw), version=0, header=True)
    assert response.error_code == 0, response
    return {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}


def metadata(port, topics, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        topic = MetadataRequest.MetadataRequestTopic
        request = MetadataRequest[1](topics=[topic(name=t) for t in topics])
        request.with_header(correlation_id=2, client_id="fz-check")
        raw.sendall(request.encode(header=True, framed=True))
        return MetadataResponse.decode(read_response(raw), version=1, header=True)


def create_topic(port, name, timeout=10):
    from kafka.protocol.admin.topics import CreateTopicsResponse

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        topic = CreateTopicsRequest.CreatableTopic
        request = CreateTopicsRequest[4](topics=[topic(name=name, num_partitions=1, replication_factor=1, assignments=[], configs=[])],
                                         timeout_ms=5000, validate_only=False)
        request.with_header(correlation_id=3, client_id="fz-setup")
        raw.sendall(request.encode(header=True, framed=True))
        response = CreateTopicsResponse.decode(read_response(raw), version=4, header=True)
    assert response.topics[0].error_code == 0, response


def read_exactly(raw, count):
    data = bytearray()
    while len(data) < count:
        chunk = raw.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return bytes(data)


def read_response(raw):
    (size,) = struct.unpack(">i", read_exactly(raw, 4))
    return read_exactly(raw, size)


class Connection:
    """A fuzzing socket: the frame in flight, and a reader that counts responses without keeping
    their bodies (a Fetch may answer with gigabytes)."""

    def __init__(self, number, port):
        self.number = number
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.out = memoryview(b"")
        self.in_flight = None          # (index, sent at, how long to wait for its answer)
        self.last_sent = self.last_received = time.monotonic()
        self.given_up = set()          # frames in flight here whose answer was not waited for
        self.desynchronised = False    # the broker waits for bytes of a frame with a size prefix too large
        self.retire = False            # to be replaced once its frame in flight is done
        self.settled = True            # every frame sent here so far was answered
        self.header = bytearray()      # size + correlation id of the response being read
        self.left = 0                  # bytes of that response's body still to skip

    def feed(self, data, answered):
        """Consumes received bytes; calls answered(correlation_id) per complete response."""
        view = memoryview(data)
        while view:
            if self.left == 0 and len(self.header) < 8:
                take = 8 - len(self.header)
                self.header += view[:take]
                view = view[take:]
                if len(self.header) == 8:
                    size, correlation = struct.unpack(">ii", self.header)
                    self.left = size - 4
                    self.correlation = correlation
                    if self.left <= 0:
                        self.header.clear()
                        answered(correlation)
                continue
            take = min(self.left, len(view))
            self.left -= take
            view = view[take:]
            if self.left == 0:
                self.header.clear()
                answered(self.correlation)


class FuzzFailure(AssertionError):
    pass


class Fuzzer:
    """Sends frames 0..frames-1 over CONNECTIONS non-blocking sockets from one loop, one frame
    in flight per socket; counts each frame's outcome per API: answered, closed (the broker
    closed the connection), silent (no answer in time), stalled (the connection stopped moving
    and was replaced)."""

    def __init__(self, port, mutator, frames, report, broker_alive, checks):
        self.port, self.mutator, self.frames, self.report = port, mutator, frames, report
        self.broker_alive, self.checks = broker_alive, checks
        self.recent = collections.deque(maxlen=64)        # (index, connection, api, version, description, bytes)
        self.outcomes = collections.Counter()              # (api, outcome)
        self.per_api = collections.Counter()
        self.sent = 0
        self.reconnects = 0
        self.slowest = (0.0, None)
        self.apis = {}                                     # index in flight -> api
        self.descriptors = self.directories = None         # the broker's, at the last check
        self.unanswered = []                               # frames that wanted an answer and got none
        self.valid_unanswered = []                         # (index, outcome) of valid frames not answered

    def finish(self, connection, outcome):
        """The frame in flight on `connection` is done."""
        index, sent_at, wait, expect, valid = connection.in_flight
        connection.in_flight = None
        if outcome == "silent" and expect in ("answer", "leftover") and not connection.desynchronised:
            self.unanswered.append(index)
        if valid and outcome != "answered":
            self.valid_unanswered.append((index, outcome))
        if expect == "leftover":
            connection.desynchronised = True
        # Only after an answer is the broker surely done with what came before on this connection.
        connection.settled = outcome == "answered" and not connection.desynchronised
        self.outcomes[(self.apis.pop(index, None), outcome)] += 1
        if outcome == "answered" and time.monotonic() - sent_at > self.slowest[0]:
            self.slowest = (time.monotonic() - sent_at, index)

    def run(self):
        selector = selectors.DefaultSelector()
        connections = [self.connect(i, selector) for i in range(CONNECTIONS)]
        buffer = bytearray(1 << 20)
        next_index = 0
        last_check = started = time.monotonic()

        def answered_by(connection):
            def answered(correlation):
                # The answer of the frame in flight (its correlation id may be mutated), unless it
                # names a frame of this connection that was given up on.
                if connection.in_flight and correlation not in connection.given_up:
                    self.finish(connection, "answered")
                else:
                    self.outcomes[(None, "late answer")] += 1
            return answered

        while True:
            now = time.monotonic()
            if now - last_check > 1.0:
                last_check = now
                self.checks(self)
            for i, connection in enumerate(connections):
                if connection.in_flight and not connection.out:
                    index, sent_at, wait, expect, _ = connection.in_flight
                    if now - max(sent_at, connection.last_received) > wait:
                        connection.given_up.add(index)
                        self.finish(connection, "silent")
                        if expect == "more bytes":
                            # The broker waits for the rest of this frame: the next frame sent here
                            # gives it (a desynchronised stream), then the connection is replaced.
                            connection.desynchronised = True
                        elif expect in ("answer", "leftover") or connection.desynchronised:
                            # A frame that wanted an answer and got none within ANSWER_S (a long
                            # poll, say): frames behind it would only wait, so the connection goes.
                            connection.retire = True
                if connection.retire and not connection.in_flight:
                    connections[i] = connection = self.replace(connection, selector, None)
                # A connection that takes no byte (the broker stopped reading it) is replaced.
                if connection.out and now - connection.last_sent > STALL_S:
                    connections[i] = connection = self.replace(connection, selector, "stalled")
                if connection.in_flight is None and not connection.out and next_index < self.frames:
                    frame, api, version, description, expect = self.mutator.frame(next_index)
                    self.recent.append((next_index, connection.number, api, version, description, frame))
                    self.per_api[api] += 1
                    self.apis[next_index] = api
                    if connection.desynchronised:
                        wait, connection.retire = DESYNC_S, True
                    else:
                        wait = ANSWER_S if expect in ("answer", "leftover") else SILENT_S
                    valid = description.startswith("valid") and expect == "answer" and connection.settled
                    connection.in_flight = (next_index, now, wait, expect, valid)
                    connection.out = memoryview(frame)
                    connection.last_sent = now
                    next_index += 1
                    self.sent = next_index
                    selector.modify(connection.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, connection)
            if next_index >= self.frames and not any(c.in_flight or c.out for c in connections):
                break
            for key, events in selector.select(timeout=0.005):
                connection = key.data
                if connection not in connections:
                    continue
                closed = False
                if events & selectors.EVENT_WRITE and connection.out:
                    try:
                        sent = connection.sock.send(connection.out)
                        connection.out = connection.out[sent:]
                        connection.last_sent = time.monotonic()
                        if not connection.out:
                            selector.modify(connection.sock, selectors.EVENT_READ, connection)
                            if connection.in_flight:
                                connection.in_flight = (connection.in_flight[0], connection.last_sent, *connection.in_flight[2:])
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed = True
                if events & selectors.EVENT_READ and not closed:
                    try:
                        while True:
                            count = connection.sock.recv_into(buffer)
                            if count == 0:
                                closed = True
                                break
                            connection.last_received = time.monotonic()
                            connection.feed(memoryview(buffer)[:count], answered_by(connection))
                            if count < len(buffer):
                                break
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed = True
                if closed:
                    connections[connections.index(connection)] = self.replace(connection, selector, "closed")
        for connection in connections:
            selector.unregister(connection.sock)
            connection.sock.close()
        self.elapsed = time.monotonic() - started

    def connect(self, number, selector):
        deadline = time.monotonic() + 10
        while True:
            try:
                connection = Connection(number, self.port)
                break
            except OSError as error:
                if not self.broker_alive():
                    raise FuzzFailure(self.report(self, "the broker died"))
                if time.monotonic() > deadline:
                    raise FuzzFailure(self.report(self, f"cannot connect to the broker for 10 s: {error}"))
                time.sleep(0.05)
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        return connection

    def replace(self, connection, selector, outcome):
        if connection.in_flight and outcome:
            self.finish(connection, outcome)
        selector.unregister(connection.sock)
        connection.sock.close()
        self.reconnects += 1
        if not self.broker_alive():
            raise FuzzFailure(self.report(self, "the broker died"))
        return self.connect(connection.number, selector)


# ---------------------------------------------------------------------------------------------
# The steady producer and consumer


class Steady:
    """Numbered messages to STEADY_TOPIC at STEADY_RATE, acks=all and idempotent, and an assign()
    consumer reading them; every error either sees is kept."""

    def __init__(self, address):
        from confluent_kafka import Consumer, Producer, TopicPartition

        self.errors, self.acked, self.consumed = [], [], []
        self.sent = 0
        self.stop_producing = threading.Event()
        self.stop_consuming = threading.Event()
        self.producer = Producer({"bootstrap.servers": address, "acks": "all", "enable.idempotence": True, "linger.ms": 5,
                                  "error_cb": lambda error: self.errors.append(("producer", str(error)))})
        self.consumer = Consumer({"bootstrap.servers": address, "group.id": "unused", "enable.auto.commit": False,
                                  "fetch.wait.max.ms": 100, "error_cb": lambda error: self.errors.append(("consumer", str(error)))})
        self.consumer.assign([TopicPartition(STEADY_TOPIC, 0, 0)])
        self.threads = [threading.Thread(target=self.produce, daemon=True), threading.Thread(target=self.consume, daemon=True)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def delivered(self, error, message):
        if error is not None:
            self.errors.append(("delivery", str(error)))
        else:
            self.acked.append((message.offset(), message.value()))

    def produce(self):
        started = time.monotonic()
        while not self.stop_producing.is_set():
            due = int((time.monotonic() - started) * STEADY_RATE)
            while self.sent < due:
                try:
                    self.producer.produce(STEADY_TOPIC, value=b"steady %08d" % self.sent, on_delivery=self.delivered)
                    self.sent += 1
                except BufferError:
                    break
            self.producer.poll(0.01)
        left = self.producer.flush(self.flush_seconds)
        if left:
            self.errors.append(("producer", f"{left} messages not delivered after flush({self.flush_seconds})"))
        self.producer.close()

    def consume(self):
        while not self.stop_consuming.is_set():
            message = self.consumer.poll(0.1)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() != message.error()._PARTITION_EOF:
                    self.errors.append(("consumer", str(message.error())))
                continue
            self.consumed.append((message.offset(), message.value()))
        self.consumer.close()

    def finish(self, timeout=90):
        self.flush_seconds = min(60, timeout)
        self.stop_producing.set()
        self.threads[0].join(timeout)
        deadline = time.monotonic() + timeout
        while len(self.consumed) < len(self.acked) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything beyond what was acknowledged would show up as a duplicate
        self.stop_consuming.set()
        self.threads[1].join(timeout)


# ---------------------------------------------------------------------------------------------
# The test


def seed_from_environment():
    text = os.environ.get("PETREL_FUZZ_SEED")
    return int(text) if text else random.SystemRandom().randrange(1 << 32)


def seed_big_topic(port):
    """~1 MiB in 16 KiB batches into BIG_TOPIC, for the Fetch that names it thousands of times."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        data = ProduceRequest.TopicProduceData
        for i in range(8):
            batches = b"".join(record_batch(0, 16, 1000, tag=b"big%d" % j) for j in range(8))
            request = ProduceRequest[9](transactional_id=None, acks=-1, timeout_ms=5000, topic_data=[
                data(name=BIG_TOPIC, partition_data=[data.PartitionProduceData(index=0, records=batches)])])
            request.with_header(correlation_id=i, client_id="fz-setup")
            raw.sendall(request.encode(header=True, framed=True))
            read_response(raw)


def log_tail(path, lines=30):
    """The broker log's last lines, without the flood of closed connections but the last few."""
    try:
        with open(path, "rb") as log:
            log.seek(max(0, os.path.getsize(path) - 200_000))
            text = log.read().decode(errors="replace").splitlines()[1:]
    except OSError as error:
        return f"(no broker log: {error})"
    others = [line for line in text if "closing connection from" not in line]
    return "\n".join(others[-lines:] + ["... and the last lines:"] + text[-5:])


def open_descriptors(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def descriptor_limit(pid):
    try:
        with open(f"/proc/{pid}/limits") as limits:
            return next(line.split()[3] for line in limits if line.startswith("Max open files"))
    except (OSError, StopIteration):
        import resource
        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def partition_directories(data_dir):
    try:
        return sum(1 for entry in os.scandir(data_dir) if entry.is_dir())
    except OSError:
        return 0


def test_fuzzed_frames_of_every_api_beside_a_steady_producer_and_consumer(petrel, tmp_path):
    from broker import Broker

    seed = seed_from_environment()
    replay = (f"replay: PETREL_FUZZ_SEED={seed} PETREL_FUZZ_FRAMES={FRAMES}"
              f"{' PETREL_FUZZ_AVOID_KNOWN=1' if AVOID_KNOWN else ''} python3 -m pytest -q -c Tests/Interop/pytest.ini "
              f"Tests/Interop/test_broker_fuzz.py; one frame alone: python3 Tests/Interop/test_broker_fuzz.py "
              f"--seed {seed} --port PORT --frames INDEX")
    print(f"\nfuzz seed {seed}, {FRAMES} frames{' (avoiding known crashes)' if AVOID_KNOWN else ''}; {replay}")
    log_path = tmp_path / "broker.log"
    # In memory where there is /dev/shm: every topic the frames create or delete fsyncs the data
    # directory, ~30 ms each on a busy disk, which would set the pace of the whole run.
    shm = pathlib.Path("/dev/shm")
    in_memory = shm.is_dir() and os.access(shm, os.W_OK)
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="petrel-fuzz-", dir=shm)) / "data" if in_memory else tmp_path / "data"
    broker = Broker(petrel, data_dir, log_path=log_path)
    passed = False
    broker.start()
    try:
        advertised = api_versions(broker.port)
        corpus = Corpus(advertised)
        assert not corpus.unwalked, f"seed {seed}: the schema walk failed for {corpus.unwalked}"
        mutator = Mutator(corpus, seed)
        seed_big_topic(broker.port)

        def report(fuzzer, what):
            dump = tmp_path / "fuzz-last-frames.txt"
            with dump.open("w") as out:
                out.write(f"seed {seed}; {what}; frames sent {fuzzer.sent}\n{replay}\n")
                for index, number, api, version, description, frame in fuzzer.recent:
                    out.write(f"frame {index} conn {number} api {api} v{version} ({len(frame)} bytes): {description}\n{frame.hex()}\n")
            last = "\n".join(f"  frame {index} conn {number} api {api} v{version}: {description}\n    "
                             f"{frame[:256].hex()}{'...' if len(frame) > 256 else ''}"
                             for index, number, api, version, description, frame in list(fuzzer.recent)[-CONNECTIONS - 4:])
            return (f"seed {seed}: {what} after {fuzzer.sent} frames (at the last check, a second before or less, the broker had "
                    f"{fuzzer.descriptors} open descriptors of at most {descriptor_limit(broker.process.pid)} and {fuzzer.directories} "
                    f"partition directories in {data_dir}; indices of the last frames: "
                    f"{[r[0] for r in list(fuzzer.recent)[-CONNECTIONS:]]})\n{replay}\nlast frames (all {len(fuzzer.recent)} in {dump}):\n"
                    f"{last}\nbroker exit code {broker.process.poll()}; broker log tail ({log_path}):\n{log_tail(log_path)}")

        def checks(fuzzer):
            if broker.process.poll() is not None:
                raise FuzzFailure(report(fuzzer, f"the broker died (exit code {broker.process.returncode})"))
            directories = fuzzer.directories = partition_directories(data_dir)
            fuzzer.descriptors = open_descriptors(broker.process.pid) or fuzzer.descriptors
            if directories > PARTITION_DIRECTORIES_MAX:
                raise FuzzFailure(report(fuzzer, f"the broker made {directories} partition directories (more than {PARTITION_DIRECTORIES_MAX})"))
            if steady.errors:
                raise FuzzFailure(report(fuzzer, f"the steady clients saw errors: {steady.errors[:5]}"))

        create_topic(broker.port, STEADY_TOPIC)
        steady = Steady(broker.address).start()
        deadline = time.monotonic() + 30
        while not steady.consumed and time.monotonic() < deadline:
            time.sleep(0.1)
        assert steady.consumed, f"seed {seed}: the steady consumer got nothing before fuzzing: {steady.errors}"

        fuzzer = Fuzzer(broker.port, mutator, FRAMES, report, lambda: broker.process.poll() is None, checks)
        try:
            fuzzer.run()
        finally:
            steady.finish(timeout=90 if broker.process.poll() is None else 2)
        summary = collections.defaultdict(dict)
        for (api, outcome), count in sorted(fuzzer.outcomes.items(), key=lambda item: str(item)):
            summary[api][outcome] = count
        print(f"fuzz seed {seed}: {fuzzer.sent} frames in {fuzzer.elapsed:.1f} s ({fuzzer.sent / fuzzer.elapsed:.0f}/s), "
              f"{fuzzer.reconnects} reconnects, slowest answer {fuzzer.slowest[0]:.2f} s (frame "
              f"{fuzzer.slowest[1]}), {partition_directories(data_dir)} partition directories; {len(fuzzer.unanswered)} frames "
              f"got no answer within {ANSWER_S} s (e.g. {fuzzer.unanswered[:8]}), of which valid ones: {fuzzer.valid_unanswered[:8]}; per API: {dict(summary)}; "
              f"steady: {steady.sent} sent, {len(steady.acked)} acknowledged, {len(steady.consumed)} consumed")
        checks(fuzzer)
        assert all(fuzzer.per_api[key] > 0 for key in advertised), f"seed {seed}: an API got no frame: {fuzzer.per_api}"
        closed_valid = [(index, mutator.frame(index)[1:4]) for index, outcome in fuzzer.valid_unanswered if outcome == "closed"]
        assert not closed_valid, f"seed {seed}: the broker closed the connection on valid frames (index, (api, version, what)): {closed_valid[:10]}"

        context = f"seed {seed}; {replay}"
        assert not steady.errors, f"{context}: the steady clients saw errors: {steady.errors[:10]}"
        assert steady.sent == len(steady.acked), f"{context}: {steady.sent} produced, {len(steady.acked)} acknowledged"
        acked_offsets = [offset for offset, _ in steady.acked]
        assert acked_offsets == list(range(len(acked_offsets))), f"{context}: acknowledged offsets are not 0, 1, 2, ...: {acked_offsets[:20]}"
        assert [value for _, value in steady.acked] == [b"steady %08d" % i for i in range(len(steady.acked))], f"{context}: acknowledged out of order"
        consumed = steady.consumed
        missing = sorted(set(steady.acked) - set(consumed))
        duplicates = [item for item, count in collections.Counter(consumed).items() if count > 1]
        assert not missing, f"{context}: {len(missing)} acknowledged messages were not consumed, e.g. {missing[:5]}"
        assert not duplicates, f"{context}: consumed more than once: {duplicates[:5]}"
        assert consumed == steady.acked, f"{context}: consumed in another order than acknowledged"

        assert broker.process.poll() is None, f"{context}: the broker died at the end; log tail:\n{log_tail(log_path)}"
        assert set(api_versions(broker.port)) == set(advertised), f"{context}: ApiVersions changed"
        topics = {t.name: t for t in metadata(broker.port, [STEADY_TOPIC]).topics}
        assert topics[STEADY_TOPIC].error_code == 0 and len(topics[STEADY_TOPIC].partitions) == 1, f"{context}: {topics}"
        passed = True
    finally:
        if broker.process.poll() is None:
            broker.kill()  # the data directory may hold thousands of partitions: no clean shutdown needed
        if in_memory and passed:
            shutil.rmtree(data_dir.parent, ignore_errors=True)  # kept for a look when the test failed


# ---------------------------------------------------------------------------------------------
# Replaying frames by hand


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description="Send frames of a fuzz seed to a broker and print what it answers.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--frames", required=True, help="indices, comma-separated; A-B for a range")
    parser.add_argument("--print-only", action="store_true", help="print the frames' hex instead of sending them")
    args = parser.parse_args(argv)
    indices = []
    for part in args.frames.split(","):
        low, _, high = part.partition("-")
        indices += range(int(low), int(high or low) + 1)
    mutator = Mutator(Corpus(api_versions(args.port)), args.seed)
    raw = None
    for index in indices:
        frame, api, version, description, _ = mutator.frame(index)
        print(f"frame {index}: api {api} v{version} ({len(frame)} bytes): {description}\n  {frame.hex()}")
        if args.print_only:
            continue
        raw = raw or socket.create_connection(("127.0.0.1", args.port), timeout=5)
        raw.sendall(frame)
        try:
            response = read_response(raw)
            print(f"  answered: correlation id {struct.unpack_from('>i', response)[0]}, {len(response)} bytes")
        except socket.timeout:
            print("  no answer within 5 s (the next frame goes on a new connection)")
            raw.close()
            raw = None
        except (ConnectionError, OSError) as error:
            print(f"  connection closed: {error}")
            raw = None


if __name__ == "__main__":
    main(sys.argv[1:])
