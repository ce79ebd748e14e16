"""UAC timer and error paths against a scripted raw-socket peer (precise control of loss)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from sip_peers import FAST, free_port, trunk
from sipmessage import Message, Request
from tests.support import until

from lc_prober.adapters.sip import SipTrunkClient

pytestmark = [pytest.mark.sip, pytest.mark.timeout(30)]


class ScriptedPeer(asyncio.DatagramProtocol):
    """Records every request; the test decides what to answer and when."""

    def __init__(self) -> None:
        self.requests: list[tuple[Request, tuple[str, int]]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.arrived = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = Message.parse(data)
        assert isinstance(message, Request)
        self.requests.append((message, addr))
        self.arrived.set()

    def methods(self) -> list[str]:
        return [r.method for r, _ in self.requests]

    def answer(
        self, index: int, code: int, phrase: str, *, tag: str = "peer", extra: str = ""
    ) -> None:
        req, addr = self.requests[index]
        to = req.headers["To"] + ("" if code == 100 else f";tag={tag}")
        lines = [f"SIP/2.0 {code} {phrase}"] + [f"Via: {v}" for v in req.headers.getlist("Via")]
        lines += [
            f"From: {req.headers['From']}",
            f"To: {to}",
            f"Call-ID: {req.headers['Call-ID']}",
            f"CSeq: {req.headers['CSeq']}",
        ]
        if extra:
            lines.append(extra)
        lines.append("Content-Length: 0")
        assert self.transport is not None
        self.transport.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), addr)


async def scripted() -> tuple[ScriptedPeer, int]:
    loop = asyncio.get_running_loop()
    peer = ScriptedPeer()
    transport, _ = await loop.create_datagram_endpoint(lambda: peer, local_addr=("127.0.0.1", 0))
    return peer, int(transport.get_extra_info("sockname")[1])


async def test_retransmitted_final_is_acked_again_during_timer_d() -> None:
    peer, port = await scripted()
    async with SipTrunkClient(trunk(port, media=False)) as client:
        call = asyncio.create_task(client.call("+61400000001"))
        await until(lambda: peer.methods()[:1] == ["INVITE"])
        peer.answer(0, 404, "Not Found")
        result = await call
        assert result.final_code == 404
        await until(lambda: peer.methods().count("ACK") == 1)
        peer.answer(0, 404, "Not Found")  # as if our ACK was lost
        await until(lambda: peer.methods().count("ACK") == 2)
        acks = [r for r, _ in peer.requests if r.method == "ACK"]
        assert (
            acks[0].headers["Via"] == acks[1].headers["Via"] == peer.requests[0][0].headers["Via"]
        )
        assert "tag=peer" in acks[0].headers["To"]
    assert peer.transport is not None
    peer.transport.close()


async def test_100_trying_stops_retransmission() -> None:
    peer, port = await scripted()
    async with SipTrunkClient(trunk(port, media=False)) as client:
        call = asyncio.create_task(client.call("+61400000002"))
        await until(lambda: peer.methods().count("INVITE") == 2)  # one Timer A retransmission
        peer.answer(0, 100, "Trying")
        await asyncio.sleep(FAST.t1 * 8)  # Timer A would have fired three more times
        assert peer.methods().count("INVITE") == 2
        peer.answer(0, 486, "Busy Here")
        result = await call
    assert result.codes == (100, 486)
    assert peer.transport is not None
    peer.transport.close()


async def test_retransmitted_2xx_is_acked_again() -> None:
    peer, port = await scripted()
    contact = f"Contact: <sip:uas@127.0.0.1:{port}>"
    async with SipTrunkClient(trunk(port, media=False)) as client:
        call = asyncio.create_task(client.call("+61400000003"))
        await until(lambda: "INVITE" in peer.methods())
        peer.answer(0, 200, "OK", extra=contact)
        await until(lambda: "BYE" in peer.methods())
        bye_index = peer.methods().index("BYE")
        peer.answer(bye_index, 200, "OK")
        result = await call
        assert result.ended_by == "answered" and result.error is None
        peer.answer(0, 200, "OK", extra=contact)
        await until(lambda: peer.methods().count("ACK") == 2)
    assert peer.transport is not None
    peer.transport.close()


async def test_cancel_without_final_answer_is_given_up_after_64_t1() -> None:
    peer, port = await scripted()
    async with SipTrunkClient(trunk(port, media=False)) as client:
        call = asyncio.create_task(client.call("+61400000004"))
        await until(lambda: "INVITE" in peer.methods())
        peer.answer(0, 180, "Ringing")
        await until(lambda: "CANCEL" in peer.methods())
        peer.answer(peer.methods().index("CANCEL"), 200, "OK")
        result = await call  # no 487 ever comes
    assert (result.ended_by, result.final_code) == ("cancelled", None)
    assert result.duration_ms >= 64 * FAST.t1 * 1000
    assert peer.methods().count("CANCEL") == 1  # answered, so not retransmitted
    assert peer.transport is not None
    peer.transport.close()


async def test_tcp_connection_refused_is_a_transport_error() -> None:
    port = free_port()
    client = SipTrunkClient(trunk(port, "tcp"))
    with pytest.raises(ConnectionError):
        await client.start()


async def test_tcp_connection_lost_mid_call() -> None:
    accepted: list[asyncio.StreamWriter] = []
    got_invite = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        got_invite.set()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, family=socket.AF_INET)
    port = server.sockets[0].getsockname()[1]
    async with SipTrunkClient(trunk(port, "tcp")) as client:
        call = asyncio.create_task(client.call("+61400000005"))
        await asyncio.wait_for(got_invite.wait(), 5)
        accepted[0].close()
        result = await asyncio.wait_for(call, 5)
    assert result.ended_by == "transport_error"
    assert result.error
    server.close()
    await server.wait_closed()
