"""Writing a ready websocket frame straight to a daphne socket.

Through Twisted, every write is buffered, the socket registered for writability (an epoll call),
written on the next loop turn through Twisted's logging-context wrappers, then unregistered
(another epoll call): most of the ~45 us of CPU a frame cost. When the connection's buffers are
empty (the usual case for a broadcast), the frame can go to the kernel at once, as asyncio's own
transports do; whatever the kernel does not take is handed to Twisted, so order is kept. It also
puts a broadcast on the wire before the next await, so later work (a database read in a thread,
which would hold the GIL against the loop's writes) no longer delays it.

Anything unusual (TLS, compression, a backlog, a closing connection) takes the ordinary path.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.internet import tcp


def text_frame(text: str) -> bytes:
    """An unmasked, unfragmented server-to-client text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


def write_frame(protocol: Any, frame: bytes) -> bool:
    """Writes `frame` on an open daphne connection; False if it cannot (compression negotiated:
    the caller then sends through the ASGI send). Not open: dropped, as daphne would."""
    if protocol._perMessageCompress is not None:
        return False
    if protocol.state != protocol.STATE_OPEN:
        return True
    transport = protocol.transport
    if protocol.send_queue or not _idle(transport):
        protocol.sendData(frame)  # behind what is queued, through Twisted (or TLS)
        return True
    try:
        sent = transport.socket.send(frame)
    except BlockingIOError:
        sent = 0
    except OSError:  # the connection is going: let Twisted find out and close it as usual
        sent = 0
    if sent < len(frame):
        transport.write(frame[sent:])
    protocol.trafficStats.outgoingOctetsWireLevel += len(frame)
    return True


def _idle(transport: Any) -> bool:
    """A plain TCP connection with nothing buffered and no close under way."""
    return bool(
        type(transport) is tcp.Server
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataBuffer
        and len(transport.dataBuffer) == transport.offset
    )
