"""The carrier simulator behaves as a real UAS: Timer G retransmission, INVITE retransmissions,
481/501 for what it does not know, TCP framing."""

from __future__ import annotations

import asyncio

import pytest
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers

pytestmark = [pytest.mark.sip, pytest.mark.timeout(30)]

T1 = 0.05


def request(
    method: str,
    *,
    branch: str = "z9hG4bKraw1",
    call_id: str = "raw-1",
    number: str = "+61400000001",
    cseq: int = 1,
    to_tag: str = "",
) -> bytes:
    to = f"<sip:{number}@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} sip:{number}@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch={branch}",
        "From: <sip:raw@127.0.0.1>;tag=raw",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.messages.append(data.decode())

    def codes(self) -> list[int]:
        return [int(m.split(" ", 2)[1]) for m in self.messages]


async def raw_udp(port: int) -> tuple[asyncio.DatagramTransport, Inbox]:
    inbox = Inbox()
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: inbox, remote_addr=("127.0.0.1", port)
    )
    return transport, inbox


RULES = {
    "rules": [
        {"match": {"suffix": "1"}, "behaviour": "busy"},
        {"match": {"suffix": "2"}, "behaviour": "ring"},
    ]
}


async def test_final_is_retransmitted_until_ack() -> None:
    async with CarrierSimulator(RULES, timers=SimTimers(t1=T1, t2=0.4)) as sim:
        udp, inbox = await raw_udp(sim.port)
        udp.sendto(request("INVITE"))
        # Timer G: copies at 0, T1, 3*T1, 7*T1 ...
        await until(lambda: inbox.codes().count(486) >= 4, within=2)
        tag = inbox.messages[-1].split("tag=")[-1].split("\r\n")[0]
        udp.sendto(request("ACK", to_tag=tag))
        await until(lambda: sim.stats.active == 0)
        copies = inbox.codes().count(486)
        await asyncio.sleep(0.5)  # longer than the next Timer G interval: nothing may come
        assert inbox.codes().count(486) == copies
        assert sim.stats.acks == 1
        udp.close()


async def test_retransmitted_invite_gets_the_last_response_again() -> None:
    async with CarrierSimulator(RULES, timers=SimTimers(t1=T1)) as sim:
        udp, inbox = await raw_udp(sim.port)
        invite = request("INVITE", number="+61400000002", call_id="raw-2")
        udp.sendto(invite)
        await until(lambda: inbox.codes() == [100, 180])
        udp.sendto(invite)
        await until(lambda: inbox.codes() == [100, 180, 180])
        assert sim.stats.invites["+61400000002"] == 2
        assert sim.stats.calls["+61400000002"] == 1
        udp.sendto(request("CANCEL", number="+61400000002", call_id="raw-2"))
        await until(lambda: sorted(inbox.codes()[3:]) == [200, 487])
        udp.close()


async def test_unknown_transactions_and_methods() -> None:
    async with CarrierSimulator(RULES, timers=SimTimers(t1=T1)) as sim:
        udp, inbox = await raw_udp(sim.port)
        udp.sendto(request("CANCEL", call_id="nobody"))
        await until(lambda: inbox.codes() == [481])
        udp.sendto(request("BYE", call_id="nobody"))
        await until(lambda: inbox.codes() == [481, 481])
        udp.sendto(request("OPTIONS", call_id="ping"))
        await until(lambda: inbox.codes() == [481, 481, 200])
        udp.sendto(request("SUBSCRIBE", call_id="sub"))
        await until(lambda: inbox.codes() == [481, 481, 200, 501])
        udp.close()


async def test_tcp_stream_with_two_requests_in_one_write() -> None:
    async with CarrierSimulator(RULES, transport="tcp", timers=SimTimers(t1=T1)) as sim:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(request("OPTIONS", call_id="a") + b"\r\n" + request("OPTIONS", call_id="b"))
        await writer.drain()
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b"Call-ID: a" in first and b"Call-ID: b" in second
        assert first.startswith(b"SIP/2.0 200") and second.startswith(b"SIP/2.0 200")
        writer.close()
        await writer.wait_closed()
