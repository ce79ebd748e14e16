"""The trunk's UDP transport: every queued datagram read per wake-up, sends, close."""

from __future__ import annotations

import asyncio
import socket

import pytest

from lc_prober.adapters.sip.transport import TransportError, UdpTransport
from lc_sip.message import SipRequest, SipResponse


def response(n: int) -> bytes:
    return f"SIP/2.0 180 Ringing\r\nCall-ID: c{n}\r\nCSeq: 1 INVITE\r\n\r\n".encode()


async def test_reads_everything_queued_and_drops_keepalives_and_garbage() -> None:
    got: list[SipRequest | SipResponse] = []
    lost: list[Exception | None] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        transport = UdpTransport(peer.getsockname(), ("127.0.0.1", 0), got.append, lost.append)
        await transport.start()
        transport.send(b"OPTIONS sip:x@h SIP/2.0\r\n\r\n")
        assert peer.recv(100).startswith(b"OPTIONS")
        for n in range(100):  # more than one read batch, queued before the loop looks
            peer.sendto(response(n), transport.local_addr)
        peer.sendto(b"\r\n\r\n", transport.local_addr)
        peer.sendto(b"not sip at all", transport.local_addr)
        for _ in range(200):
            if len(got) == 100:
                break
            await asyncio.sleep(0.01)
        assert [m.call_id for m in got] == [f"c{n}" for n in range(100)]
        await transport.close()
        assert lost == [None]
        with pytest.raises(TransportError):
            transport.send(b"x")
        await transport.close()  # twice is harmless
