"""A blocking, dependency-free readiness probe: does a Kafka broker answer a Metadata request?

Raw sockets rather than aiokafka because the probe runs in tight polling loops, from sync code that may itself be
called inside a running event loop, and must fail in milliseconds (connection refused), not after client retries.
"""

from __future__ import annotations

import socket
import struct

_METADATA_API_KEY = 3
# v4 is the oldest version Kafka 4 still accepts and the newest without "flexible" (tagged-field) encoding.
_METADATA_VERSION = 4
_CORRELATION_ID = 0x51A9
_CLIENT_ID = b"simpul-probe"


def _metadata_request() -> bytes:
    header = struct.pack(">hhih", _METADATA_API_KEY, _METADATA_VERSION, _CORRELATION_ID, len(_CLIENT_ID))
    # An empty topic array asks for brokers and controller only; then allow_auto_topic_creation=false.
    body = struct.pack(">ib", 0, 0)
    payload = header + _CLIENT_ID + body
    return struct.pack(">i", len(payload)) + payload


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.extend(chunk)
    return bytes(chunks)


def _brokers_and_controller(response: bytes) -> tuple[int, int]:
    correlation_id, _throttle, broker_count = struct.unpack_from(">iii", response, 0)
    if correlation_id != _CORRELATION_ID:
        raise ValueError("unexpected correlation id")
    offset = 12
    for _ in range(broker_count):
        offset += 4  # node_id
        (host_len,) = struct.unpack_from(">h", response, offset)
        offset += 2 + host_len + 4  # host, port
        (rack_len,) = struct.unpack_from(">h", response, offset)
        offset += 2 + max(rack_len, 0)
    (cluster_len,) = struct.unpack_from(">h", response, offset)
    offset += 2 + max(cluster_len, 0)
    (controller_id,) = struct.unpack_from(">i", response, offset)
    return broker_count, controller_id


def broker_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a broker on host:port answers Metadata with at least one broker and a known controller."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(_metadata_request())
            (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
            brokers, controller = _brokers_and_controller(_recv_exactly(sock, size))
    except (OSError, ValueError, struct.error):
        return False
    return brokers > 0 and controller >= 0
