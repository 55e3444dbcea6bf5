#!/usr/bin/env python3
"""Generates PetrelProtocol's message codecs from Apache Kafka's JSON message schemas.

    Tools/codegen/generate-messages.py [--schemas DIR] [--out DIR] [--samples-out FILE]
        [--records-schemas DIR] [--records-out DIR] [--records-samples-out FILE]

--schemas defaults to ../shared/kafka-schemas/messages (relative to the repository root),
--out to Sources/PetrelProtocol/Messages, --samples-out to
Tests/PetrelProtocolTests/Generated/MessageSamples.swift. Output is deterministic: the same
schemas give the same bytes, which the stale-code test checks.

It also generates the "type": "data" schemas of the records Kafka keeps in its internal topics
(RECORDS: `__consumer_offsets` and `__transaction_state` keys and values) from --records-schemas
(default ../shared/kafka-schemas/internal-records) into --records-out (default
Sources/PetrelProtocol/InternalRecords), with samples in --records-samples-out (default
Tests/PetrelProtocolTests/Generated/RecordSamples.swift). They follow every rule below, conform
to `KafkaRecordData` instead of `KafkaMessage` (no API key), and carry no framing: the version
prefix Kafka writes before each is `ConsumerOffsetsRecord`'s business.

Naming rule (one, everywhere):
  * a message is a Swift struct named as the schema names it (`MetadataResponse`);
  * every struct the schema declares (nested `fields` or `commonStructs`) is a struct nested
    directly in the message type, named exactly as the schema names it
    (`MetadataResponse.MetadataResponseTopic`, `FetchRequest.FetchTopic`) — schema struct names
    are unique within a message, so the flat nesting cannot collide;
  * fields are Kafka's names in lowerCamelCase (`PartitionIndex` -> `partitionIndex`,
    `TopicId` -> `topicId`, a leading acronym lowered whole: `SASLAuthBytes` -> `saslAuthBytes`),
    backquoted when they are Swift keywords.

Types: bool Bool, int8 Int8, int16 Int16 (ErrorCode for a field named ErrorCode), uint16
UInt16, int32 Int32, int64 Int64, uint32 UInt32, float64 Double, string String, bytes [UInt8],
uuid Uuid, records Records, []T [T]; a field nullable in any version is Optional. Fields absent
in a version read as their schema default; writing a non-default value for one is dropped when
the field is ignorable and a ProtocolError (fieldNotInVersion) otherwise, as Kafka's own
generated code does. Tagged fields are read when known, skipped when unknown, and written only
when they differ from their default. `mapKey` is ignored (such collections are plain arrays).
"""
import argparse
import json
import os
import re
import sys

MESSAGES = """Produce Fetch ListOffsets Metadata OffsetCommit OffsetFetch FindCoordinator JoinGroup Heartbeat
LeaveGroup SyncGroup DescribeGroups ListGroups SaslHandshake ApiVersions CreateTopics DeleteTopics DeleteRecords
InitProducerId OffsetForLeaderEpoch AddPartitionsToTxn AddOffsetsToTxn EndTxn WriteTxnMarkers TxnOffsetCommit
DescribeConfigs AlterConfigs SaslAuthenticate CreatePartitions DeleteGroups IncrementalAlterConfigs OffsetDelete
DescribeCluster DescribeProducers DescribeTransactions ListTransactions""".split()

RECORDS = "OffsetCommitKey OffsetCommitValue GroupMetadataKey GroupMetadataValue TransactionLogKey TransactionLogValue".split()

SWIFT_KEYWORDS = {"as", "associatedtype", "break", "case", "catch", "class", "continue", "default", "defer", "deinit",
                  "do", "else", "enum", "extension", "fallthrough", "false", "fileprivate", "for", "func", "guard",
                  "if", "import", "in", "init", "inout", "internal", "is", "let", "nil", "open", "operator",
                  "private", "protocol", "public", "repeat", "rethrows", "return", "self", "Self", "static",
                  "struct", "subscript", "super", "switch", "throw", "throws", "true", "try", "typealias", "var",
                  "where", "while", "Type", "Any"}

PRIMITIVES = {
    # schema type: (Swift type, reader call, writer call, minimum wire bytes, zero literal)
    "bool": ("Bool", "readBool()", "writeBool", 1, "false"),
    "int8": ("Int8", "readInt8()", "writeInt8", 1, "0"),
    "int16": ("Int16", "readInt16()", "writeInt16", 2, "0"),
    "uint16": ("UInt16", "readUInt16()", "writeUInt16", 2, "0"),
    "int32": ("Int32", "readInt32()", "writeInt32", 4, "0"),
    "int64": ("Int64", "readInt64()", "writeInt64", 8, "0"),
    "uint32": ("UInt32", "readUInt32()", "writeUInt32", 4, "0"),
    "float64": ("Double", "readFloat64()", "writeFloat64", 8, "0"),
    "uuid": ("Uuid", "readUuid()", "writeUuid", 16, ".zero"),
}
ERROR_CODE = ("ErrorCode", "readErrorCode()", "writeErrorCode", 2, ".none")


class Versions:
    """A schema version range: "3+", "1-4", "7", or "none"."""

    def __init__(self, text):
        text = (text or "none").strip()
        if text == "none":
            self.low, self.high = None, None
        elif text.endswith("+"):
            self.low, self.high = int(text[:-1]), 0x7FFF
        elif "-" in text:
            low, high = text.split("-")
            self.low, self.high = int(low), int(high)
        else:
            self.low = self.high = int(text)

    def empty(self):
        return self.low is None

    def intersect(self, other):
        result = Versions("none")
        if not self.empty() and not other.empty():
            low, high = max(self.low, other.low), min(self.high, other.high)
            if low <= high:
                result.low, result.high = low, high
        return result

    def contains(self, version):
        return not self.empty() and self.low <= version <= self.high

    def covers(self, other):
        return other.empty() or (not self.empty() and self.low <= other.low and other.high <= self.high)

    def condition(self, within):
        """A Swift condition on `version` that holds for these versions, given `within`."""
        if self.covers(within):
            return "true"
        effective = self.intersect(within)
        if effective.empty():
            return "false"
        parts = []
        if effective.low > within.low:
            parts.append("version >= %d" % effective.low)
        if effective.high < within.high:
            parts.append("version <= %d" % effective.high)
        if effective.low == effective.high and len(parts) == 2:
            return "version == %d" % effective.low
        return " && ".join(parts)


def swift_name(kafka_name):
    match = re.match(r"^([A-Z]+)([A-Z][a-z].*)$", kafka_name)
    if match:
        name = match.group(1).lower() + match.group(2)
    elif re.match(r"^[A-Z]+$", kafka_name):
        name = kafka_name.lower()
    else:
        name = kafka_name[0].lower() + kafka_name[1:]
    return "`%s`" % name if name in SWIFT_KEYWORDS else name


def bare(name):
    return name.strip("`")


def load_schema(path):
    with open(path, encoding="utf-8") as handle:
        text = re.sub(r"^\s*//.*$", "", handle.read(), flags=re.M)
    return json.loads(text)


class Field:
    def __init__(self, spec, message):
        self.spec = spec
        self.kafka_name = spec["name"]
        self.name = swift_name(spec["name"])
        self.schema_type = spec["type"]
        self.tagged = Versions(spec.get("taggedVersions"))
        # As in Kafka's FieldSpec: a field giving only taggedVersions exists in those versions.
        self.versions = Versions(spec.get("versions") or spec.get("taggedVersions"))
        self.nullable = Versions(spec.get("nullableVersions"))
        self.tag = spec.get("tag")
        self.ignorable = spec.get("ignorable", False)
        self.about = spec.get("about", "")
        self.is_array = self.schema_type.startswith("[]")
        self.element = self.schema_type[2:] if self.is_array else self.schema_type
        self.is_struct = self.element not in PRIMITIVES and self.element not in ("string", "bytes", "records")
        if self.is_struct:
            message.declare_struct(self.element, spec.get("fields"))
        if not self.is_array and self.is_struct and not self.nullable.empty():
            sys.exit("nullable struct fields are not supported: %s" % self.kafka_name)
        self.optional = not self.nullable.empty()

    @property
    def primitive(self):
        if self.element == "int16" and self.kafka_name == "ErrorCode" and not self.is_array:
            return ERROR_CODE
        return PRIMITIVES.get(self.element)

    def element_type(self):
        if self.primitive:
            return self.primitive[0]
        return {"string": "String", "bytes": "[UInt8]", "records": "Records"}.get(self.element, self.element)

    def swift_type(self):
        base = "[%s]" % self.element_type() if self.is_array else self.element_type()
        return base + "?" if self.optional else base

    def default(self):
        """The Swift literal of the schema default."""
        text = self.spec.get("default")
        if isinstance(text, bool):
            text = "true" if text else "false"
        elif text is not None and not isinstance(text, str):
            text = str(text)
        if text == "null":
            if not self.optional:
                sys.exit("default null on a non-nullable field: %s" % self.kafka_name)
            return "nil"
        if self.is_array:
            return "[]"
        if self.is_struct:
            return "%s()" % self.element
        if self.element == "string":
            return json.dumps(text if text is not None else "")
        if self.element == "bytes":
            return "[]"
        if self.element == "records":
            return "nil" if self.optional else ".empty"
        if self.element == "bool":
            return "true" if text == "true" else "false"
        if self.element == "uuid":
            if text not in (None, "", "AAAAAAAAAAAAAAAAAAAAAA"):
                sys.exit("unsupported uuid default %r" % text)
            return ".zero"
        if text in (None, ""):
            return self.primitive[4]
        value = float(text) if self.element == "float64" else int(text, 0)
        if self.primitive is ERROR_CODE:
            return ".none" if value == 0 else ".init(rawValue: %d)" % value
        return repr(value) if self.element == "float64" else str(value)


class Struct:
    def __init__(self, name, fields, message):
        self.name = name
        self.fields = [Field(spec, message) for spec in fields]


class Message:
    def __init__(self, schema):
        self.schema = schema
        self.name = schema["name"]
        self.kind = schema["type"]
        self.api_key = schema.get("apiKey")  # none for "data" schemas
        self.valid = Versions(schema["validVersions"])
        self.flexible = Versions(schema["flexibleVersions"])
        self.common = {struct["name"]: struct for struct in schema.get("commonStructs", [])}
        self.structs = {}
        self.struct_order = []
        self.fields = [Field(spec, self) for spec in schema["fields"]]

    def declare_struct(self, name, fields):
        if name in self.structs:
            return
        if fields is None:
            if name not in self.common:
                sys.exit("%s: unknown struct %s" % (self.name, name))
            fields = self.common[name]["fields"]
        self.structs[name] = None
        self.struct_order.append(name)
        self.structs[name] = Struct(name, fields, self)


class Emitter:
    def __init__(self):
        self.lines = []
        self.depth = 0

    def line(self, text=""):
        self.lines.append(("    " * self.depth + text) if text else "")

    def open(self, text):
        self.line(text + " {")
        self.depth += 1

    def close(self, text="}"):
        self.depth -= 1
        self.line(text)


def flexible_expr(message):
    return Versions.condition(message.flexible, message.valid)


def doc(emit, text):
    for line in wrap(text, 96 - 4 * emit.depth):
        emit.line("/// " + line)


def wrap(text, width):
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = (current + " " + word).strip()
    if current:
        lines.append(current)
    return lines


def read_scalar(field, compact, nullable):
    """A Swift expression reading one value of the field's element type."""
    element = field.element
    label = json.dumps(field.kafka_name)
    if field.primitive:
        return "try reader.%s" % field.primitive[1]
    if element == "string":
        if nullable == "false":
            return "try reader.readNonNullString(compact: %s, field: %s)" % (compact, label)
        return "try reader.readString(compact: %s, nullable: %s, field: %s)" % (compact, nullable, label)
    if element == "bytes":
        if nullable == "false":
            return "try reader.readNonNullBytes(compact: %s, field: %s)" % (compact, label)
        return "try reader.readBytes(compact: %s, nullable: %s, field: %s).map { Array($0) }" % (compact, nullable, label)
    if element == "records":
        expr = "try reader.readRecords(compact: %s, nullable: %s, field: %s)" % (compact, nullable, label)
        return expr if field.optional else "(%s ?? .empty)" % expr
    return "try %s.read(version: version, from: &reader)" % element


def write_scalar(field, value, compact, nullable, out):
    """A Swift statement writing one value of the field's element type to the writer `out`."""
    element = field.element
    label = json.dumps(field.kafka_name)
    if field.primitive:
        return "%s.%s(%s)" % (out, field.primitive[2], value)
    if element in ("string", "bytes", "records"):
        call = {"string": "writeString", "bytes": "writeBytes", "records": "writeRecords"}[element]
        return "try %s.%s(%s, compact: %s, nullable: %s, field: %s)" % (out, call, value, compact, nullable, label)
    return "try %s.write(version: version, to: &%s)" % (value, out)


def minimum_bytes(field):
    if field.primitive:
        return field.primitive[3]
    return 1


def emit_read_field(emit, field, within, target):
    """Statements reading `field` into `target` (the wire form for this version)."""
    nullable = field.nullable.condition(within) if field.optional else "false"
    if field.is_array:
        label = json.dumps(field.kafka_name)
        count = "try reader.readArrayCount(compact: flexible, nullable: %s, field: %s, minimumElementBytes: %d)" % (
            nullable, label, minimum_bytes(field))
        emit.open("if let count = %s" % count)
        emit.line("var list: [%s] = []" % field.element_type())
        element_field = ElementView(field)
        emit.line("for _ in 0..<count { list.append(%s) }" % read_scalar(element_field, "flexible", "false"))
        emit.line("%s = list" % target)
        if field.optional:
            emit.close("} else {")
            emit.depth += 1
            emit.line("%s = nil" % target)
        emit.close()
    else:
        emit.line("%s = %s" % (target, read_scalar(field, "flexible", nullable)))


class ElementView:
    """An array's element seen as a field of its own (non-null, not an array)."""

    def __init__(self, field):
        self.kafka_name = field.kafka_name
        self.element = field.element
        self.optional = False
        self.primitive = PRIMITIVES.get(field.element)


def emit_write_field(emit, field, within, value, out="writer"):
    """Statements writing `field` (the wire form for this version) to the writer `out`."""
    nullable = field.nullable.condition(within) if field.optional else "false"
    if field.is_array:
        label = json.dumps(field.kafka_name)
        count = "%s?.count" % value if field.optional else "%s.count" % value
        emit.line("try %s.writeArrayCount(%s, compact: flexible, nullable: %s, field: %s)" % (out, count, nullable, label))
        elements = "%s ?? []" % value if field.optional else value
        emit.line("for element in %s { %s }" % (elements, write_scalar(ElementView(field), "element", "flexible", "false", out)))
    else:
        emit.line(write_scalar(field, value, "flexible", nullable, out))


def regular_condition(field, within):
    """When the field is written in the body (present and not tagged in that version)."""
    present = field.versions.intersect(within)
    tagged = field.tagged.intersect(present)
    if present.empty() or tagged.covers(present):
        return "false"
    if tagged.empty():
        return present.condition(within)
    return "(%s) && !(%s)" % (present.condition(within), tagged.condition(within))


def emit_struct_body(emit, name, fields, message, top_level):
    """Properties, init, read and write of one struct (the message itself or a nested one)."""
    within = message.valid
    for field in fields:
        if field.about:
            doc(emit, field.about)
        emit.line("public var %s: %s" % (field.name, field.swift_type()))
    emit.line()
    params = ["%s: %s = %s" % (field.name, field.swift_type(), field.default()) for field in fields]
    if params:
        emit.open("public init(%s)" % ", ".join(params))
        for field in fields:
            emit.line("self.%s = %s" % (bare(field.name), field.name))
        emit.close()
    else:
        emit.line("public init() {}")
    emit.line()

    flexible = flexible_expr(message)
    uses_flexible = flexible != "false" or any(f.is_array or f.element in ("string", "bytes", "records") for f in fields)
    tagged = [f for f in fields if not f.tagged.empty()]

    # read
    emit.open("public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> %s" % name)
    if top_level:
        emit.open("guard validVersions.contains(version) else")
        emit.line("throw ProtocolError(%s, position: reader.position)" % unsupported_version(message, ""))
        emit.close()
    if uses_flexible:
        emit.line("let flexible = %s" % flexible)
    declaration = len(emit.lines)
    emit.line("var value = %s()" % name)
    for field in fields:
        full = regular_condition(field, within)
        if full == "false":
            continue
        target = "value.%s" % bare(field.name)
        if full == "true":
            emit_read_field(emit, field, within, target)
        else:
            emit.open("if %s" % full)
            emit_read_field(emit, field, within, target)
            emit.close()
    if flexible != "false":
        emit.open("if flexible")
        emit.open("for _ in 0..<(try reader.readTaggedFieldCount())")
        emit.line("let (%s, size) = try reader.readTaggedFieldHeader()" % ("tag" if tagged else "_"))
        if tagged:
            emit.open("switch tag")
            for field in sorted(tagged, key=lambda f: f.tag):
                tag_cond = field.tagged.condition(within)
                guard = "" if tag_cond == "true" else " where %s" % tag_cond
                emit.depth -= 1
                emit.line("case %d%s:" % (field.tag, guard))
                emit.depth += 1
                emit.line("let bound = try reader.beginTaggedField(size: size)")
                emit_read_field(emit, field, within, "value.%s" % bare(field.name))
                emit.line("try reader.endTaggedField(bound, field: %s)" % json.dumps(field.kafka_name))
            emit.depth -= 1
            emit.line("default:")
            emit.depth += 1
            emit.line("try reader.skip(size)")
            emit.close()
        else:
            emit.line("try reader.skip(size)")
        emit.close()
        emit.close()
    if not any("value." in text for text in emit.lines[declaration + 1:]):
        emit.lines[declaration] = emit.lines[declaration].replace("var value", "let value")
    emit.line("return value")
    emit.close()
    emit.line()

    # write
    emit.open("public func write(version: Int16, to writer: inout ProtocolWriter) throws(ProtocolError)")
    if top_level:
        emit.open("guard Self.validVersions.contains(version) else")
        emit.line("throw ProtocolError(%s, position: writer.bytes.count)" % unsupported_version(message, "Self."))
        emit.close()
    if uses_flexible:
        emit.line("let flexible = %s" % flexible)
    for field in fields:
        present = field.versions.intersect(within)
        cond = present.condition(within)
        value = "self.%s" % bare(field.name)
        absent_check = None
        if cond != "true":
            if not field.ignorable:
                absent_check = "if !(%s) && %s != %s" % (cond, value, field.default()) if cond != "false" else \
                    "if %s != %s" % (value, field.default())
        if absent_check:
            emit.open(absent_check)
            emit.line("throw ProtocolError(.fieldNotInVersion(field: %s, version: version), position: writer.bytes.count)"
                      % json.dumps(field.kafka_name))
            emit.close()
        full = regular_condition(field, within)
        if full == "false":
            continue
        if full == "true":
            emit_write_field(emit, field, within, value)
        else:
            emit.open("if %s" % full)
            emit_write_field(emit, field, within, value)
            emit.close()
    if flexible != "false":
        emit.open("if flexible")
        if tagged:
            emit.line("var tagged = TaggedFieldsWriter()")
            for field in sorted(tagged, key=lambda f: f.tag):
                tag_cond = field.tagged.condition(within)
                value = "self.%s" % bare(field.name)
                cond = "%s != %s" % (value, field.default())
                if tag_cond != "true":
                    cond = "%s && %s" % (tag_cond, cond)
                emit.open("if %s" % cond)
                emit.line("var field = ProtocolWriter()")
                emit_write_field(emit, field, within, value, out="field")
                emit.line("tagged.add(tag: %d, field)" % field.tag)
                emit.close()
            emit.line("try tagged.write(to: &writer)")
        else:
            emit.line("writer.writeEmptyTaggedFields()")
        emit.close()
    emit.close()


def unsupported_version(message, scope):
    """The ProtocolError reason for a version outside the schema's (`scope` qualifies statics)."""
    if message.api_key is None:
        return ".unsupportedRecordVersion(record: %s, version: version)" % json.dumps(message.name)
    return ".unsupportedVersion(apiKey: %sapiKey.rawValue, version: version)" % scope


def generate_message(message, command):
    emit = Emitter()
    emit.line("// Generated by %s from %s.json — do not edit." % (command, message.name))
    emit.line()
    if message.api_key is None:
        framing = "TransactionStateRecord" if message.name.startswith("TransactionLog") else "ConsumerOffsetsRecord"
        doc(emit, "%s (internal-topic record data), versions %s; flexible from %s. Kafka writes an int16 version "
                  "before it (see `%s`)." % (
                      message.name, message.schema["validVersions"], message.schema["flexibleVersions"], framing))
        emit.open("public struct %s: KafkaRecordData" % message.name)
    else:
        doc(emit, "%s (API key %d, %s), versions %s; flexible from %s." % (
            message.name, message.api_key, message.kind, message.schema["validVersions"], message.schema["flexibleVersions"]))
        emit.open("public struct %s: KafkaMessage" % message.name)
        emit.line("public static let apiKey = ApiKey.%s" % api_case(message.name))
    emit.line("public static let validVersions: ClosedRange<Int16> = %d...%d" % (message.valid.low, message.valid.high))
    emit.line()
    emit_struct_body(emit, message.name, message.fields, message, True)
    for struct_name in message.struct_order:
        struct = message.structs[struct_name]
        emit.line()
        emit.open("public struct %s: Sendable, Equatable" % struct_name)
        emit_struct_body(emit, struct_name, struct.fields, message, False)
        emit.close()
    emit.close()
    return "\n".join(emit.lines) + "\n"


def api_case(message_name):
    base = re.sub(r"(Request|Response)$", "", message_name)
    return swift_name(base)


def generate_api_keys(pairs, command):
    emit = Emitter()
    emit.line("// Generated by %s from the request schemas — do not edit." % command)
    emit.line()
    emit.line("/// Kafka API keys of every generated message, with the versions their schemas define and the")
    emit.line("/// first version of each that uses flexible (KIP-482) encoding.")
    emit.open("public enum ApiKey: Int16, Sendable, CaseIterable")
    for request in pairs:
        emit.line("case %s = %d" % (api_case(request.name), request.api_key))
    emit.line()
    emit.line("/// Versions from this one on are flexible: compact strings/arrays, tagged fields, header v2;")
    emit.line("/// nil when no version is.")
    emit.open("public var firstFlexibleVersion: Int16?")
    emit.open("switch self")
    for request in pairs:
        first = "nil" if request.flexible.empty() else str(request.flexible.low)
        emit.line("case .%s: %s" % (bare(api_case(request.name)), first))
    emit.close()
    emit.close()
    emit.line()
    emit.line("/// The versions the schema defines (not what the broker implements: see `SupportedApis`).")
    emit.open("public var validVersions: ClosedRange<Int16>")
    emit.open("switch self")
    for request in pairs:
        emit.line("case .%s: %d...%d" % (bare(api_case(request.name)), request.valid.low, request.valid.high))
    emit.close()
    emit.close()
    emit.line()
    emit.line("public func isFlexible(_ version: Int16) -> Bool { firstFlexibleVersion.map { version >= $0 } ?? false }")
    emit.close()
    return "\n".join(emit.lines) + "\n"


# MARK: samples for the round-trip tests

def sample_value(field, index, message):
    """A Swift expression for a value of the field other than its default (fixed per field index)."""
    element = field.element
    seed = index + 1

    def scalar(seed):
        if field.primitive is ERROR_CODE:
            return ".init(rawValue: %d)" % (seed + 1)
        if element in ("int8", "int16", "uint16", "int32", "int64", "uint32"):
            value = seed + 1
            if not field.is_array and field.default() == str(value):
                value += 1
            return str(value)
        if element == "float64":
            return "%d.5" % seed
        if element == "bool":
            return "false" if not field.is_array and field.default() == "true" else "true"
        if element == "uuid":
            return "Uuid(high: %d, low: %d)" % (seed, seed + 1)
        if element == "string":
            return json.dumps("%s-%d" % (bare(field.name), seed))
        if element == "bytes":
            return "[%d, %d, %d]" % (seed, seed + 1, seed + 2)
        if element == "records":
            return "Records.bytes([%d, %d, 0, 1])" % (seed, seed + 7)
        return "%s.%s.sample(version: version)" % (message.name, element)

    if field.is_array:
        return "[%s, %s]" % (scalar(seed), scalar(seed + 1))
    return scalar(seed)


def emit_samples(pairs_messages, command, records=False):
    """MessageSamples (declaring `Sampled`), or with `records` RecordSamples, which reuses it."""
    emit = Emitter()
    emit.line("// Generated by %s — do not edit." % command)
    emit.line()
    emit.line("import PetrelProtocol")
    emit.line()
    if records:
        emit.line("/// A populated value of every generated internal-topic record for each version, as")
        emit.line("/// `MessageSamples` has for messages.")
        emit.open("enum RecordSamples")
        emit.line("static let all: [any (KafkaRecordData & Sampled).Type] = [")
    else:
        emit.line("/// A populated value of every generated message for each version: every field present in the")
        emit.line("/// version (tagged ones included) set to a value other than its default.")
        emit.line("protocol Sampled {")
        emit.line("    static func sample(version: Int16) -> Self")
        emit.line("}")
        emit.line()
        emit.open("enum MessageSamples")
        emit.line("static let all: [any (KafkaMessage & Sampled).Type] = [")
    for message in pairs_messages:
        emit.line("    %s.self," % message.name)
    emit.line("]")
    emit.close()
    for message in pairs_messages:
        emit.line()
        emit.open("extension %s: Sampled" % message.name)
        emit_sample_function(emit, message.name, message.fields, message)
        emit.close()
        for struct_name in message.struct_order:
            emit.line()
            emit.open("extension %s.%s" % (message.name, struct_name))
            emit_sample_function(emit, struct_name, message.structs[struct_name].fields, message)
            emit.close()
    return "\n".join(emit.lines) + "\n"


def emit_sample_function(emit, name, fields, message):
    emit.open("static func sample(version: Int16) -> Self")
    lines = []
    for index, field in enumerate(fields):
        cond = field.versions.intersect(message.valid).condition(message.valid)
        if cond == "false":
            continue
        line = "value.%s = %s" % (bare(field.name), sample_value(field, index, message))
        lines.append(line if cond == "true" else "if %s { %s }" % (cond, line))
    if not lines:
        emit.line("_ = version")
        emit.line("return Self()")
    else:
        emit.line("var value = Self()")
        for line in lines:
            emit.line(line)
        emit.line("return value")
    emit.close()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemas", default=os.path.join(root, "..", "shared", "kafka-schemas", "messages"))
    parser.add_argument("--out", default=os.path.join(root, "Sources", "PetrelProtocol", "Messages"))
    parser.add_argument("--samples-out", default=os.path.join(root, "Tests", "PetrelProtocolTests", "Generated",
                                                              "MessageSamples.swift"))
    parser.add_argument("--records-schemas", default=os.path.join(root, "..", "shared", "kafka-schemas", "internal-records"))
    parser.add_argument("--records-out", default=os.path.join(root, "Sources", "PetrelProtocol", "InternalRecords"))
    parser.add_argument("--records-samples-out", default=os.path.join(root, "Tests", "PetrelProtocolTests", "Generated",
                                                                      "RecordSamples.swift"))
    arguments = parser.parse_args()
    command = "Tools/codegen/generate-messages.py"
    messages, requests = [], []
    for base in MESSAGES:
        for kind in ("Request", "Response"):
            schema = load_schema(os.path.join(arguments.schemas, base + kind + ".json"))
            message = Message(schema)
            messages.append(message)
            if kind == "Request":
                requests.append(message)
    requests.sort(key=lambda m: m.api_key)
    files = {message.name + ".swift": generate_message(message, command) for message in messages}
    files["ApiKey.swift"] = generate_api_keys(requests, command)
    write_directory(arguments.out, files)
    write_file(arguments.samples_out, emit_samples(messages, command))

    records = [Message(load_schema(os.path.join(arguments.records_schemas, name + ".json"))) for name in RECORDS]
    write_directory(arguments.records_out, {record.name + ".swift": generate_message(record, command) for record in records})
    write_file(arguments.records_samples_out, emit_samples(records, command, records=True))


GENERATED_MARK = "// Generated by "


def write_directory(directory, files):
    """Writes the files and removes generated ones no schema makes any more; hand-written Swift
    files beside them (ConsumerOffsetsRecord.swift) do not start with GENERATED_MARK and stay."""
    os.makedirs(directory, exist_ok=True)
    for name in sorted(files):
        write(os.path.join(directory, name), files[name])
    for stale in sorted(set(os.listdir(directory)) - set(files)):
        path = os.path.join(directory, stale)
        if stale.endswith(".swift"):
            with open(path, encoding="utf-8") as handle:
                generated = handle.read(len(GENERATED_MARK)) == GENERATED_MARK
            if generated:
                os.remove(path)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write(path, text)


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
