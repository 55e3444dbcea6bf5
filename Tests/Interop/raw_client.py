"""Requests encoded by kafka-python's protocol code (built from Kafka's own JSON schemas), sent
over a plain socket to a broker, and their responses decoded the same way."""
import socket
import struct


class RawClient:
    def __init__(self, port, timeout=10):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.correlation = 0

    def send(self, request):
        self.correlation += 1
        request.with_header(correlation_id=self.correlation, client_id="raw")
        self.socket.sendall(request.encode(header=True, framed=True))

    def receive(self, response_class, version, size_max=None):
        size = struct.unpack(">i", self.read(4))[0]
        assert size_max is None or size <= size_max, f"a response of {size} bytes"

        return response_class.decode(self.read(size), version=version, header=True)

    def call(self, request, response_class, size_max=None):
        self.send(request)
        return self.receive(response_class, request.API_VERSION, size_max)

    def read(self, count):
        data = b""
        while len(data) < count:
            chunk = self.socket.recv(min(count - len(data), 1 << 20))
            assert chunk, "connection closed"
            data += chunk
        return data

    def close(self):
        self.socket.close()
