"""The trunk's caller ID as an independent SIP peer (SIPp) receives it: the From user and
P-Asserted-Identity of the INVITE."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest
from tests.support import until

from lc_common.trunks import parse_trunks
from lc_prober.adapters.sip.client import SipTrunkClient
from lc_prober.bootstrap import client_config
from lc_prober.config import ProberSettings

pytestmark = [pytest.mark.sip, pytest.mark.timeout(60)]

SCENARIO = Path("tests/integration/sip/scenarios/reject.xml")
CALLER_ID = "+61299990000"


def bound(port: int) -> bool:
    """True once something (SIPp) holds the UDP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_invite_presents_the_trunks_caller_id(tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("SIPp is not installed (Debian package sip-tester)")
    (tmp_path / "reject.xml").write_text(
        SCENARIO.read_text().replace("@code@", "404").replace("@phrase@", "Not Found")
    )
    port = free_udp_port()
    sipp = await asyncio.create_subprocess_exec(
        *("sipp", "-sf", "reject.xml", "-i", "127.0.0.1", "-p", str(port), "-t", "u1"),
        *("-mp", str(free_udp_port()), "-m", "1", "-nostdin", "-trace_msg", "-timeout", "30s"),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        (trunk,) = parse_trunks(
            f'- {{name: sipp, host: 127.0.0.1, port: {port}, caller_id: "{CALLER_ID}"}}'
        )
        config = client_config(trunk, ProberSettings(sip_bind_host="127.0.0.1"))
        await until(lambda: bound(port), within=10, what="SIPp listening")
        async with SipTrunkClient(config) as client:
            result = await client.call("+61212345678")
        assert result.final_code == 404
        assert await asyncio.wait_for(sipp.wait(), 15) == 0
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
    trace = "".join(p.read_text() for p in tmp_path.glob("reject_*_messages.log"))
    invite = next(c for c in trace.split("---------- ") if "\nINVITE sip:" in c)
    headers = {
        line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
        for line in invite.splitlines()
        if ":" in line and not line.startswith(("INVITE", " "))
    }
    assert headers["from"].startswith(f"<sip:{CALLER_ID}@127.0.0.1>")
    assert headers["p-asserted-identity"] == f"<sip:{CALLER_ID}@127.0.0.1>"
