"""kafka-python's own protocol codec, driven from Petrel's Swift tests:

  encode-request API VERSION        prints the hex of a canonical request (header v1/v2 + body)
  decode-response API VERSION HEX   decodes a response (header + body) and prints it as JSON

API is "api_versions" or "metadata". The canonical requests are what PetrelProtocolTests expect."""
import json
import sys
import uuid

from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse

CORRELATION_ID = 7
CLIENT_ID = "cid"


def request(api, version):
    if api == "api_versions":
        if version >= 3:
            return ApiVersionsRequest[version](client_software_name="kafka-python", client_software_version="3.0.12")
        return ApiVersionsRequest[version]()
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
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
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
        cls = ApiVersionsResponse if api == "api_versions" else MetadataResponse
        decoded = cls.decode(bytes.fromhex(sys.argv[4]), version=version, header=True)
        print(json.dumps({"correlation_id": decoded._header.correlation_id, "body": plain(decoded)}, sort_keys=True))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
