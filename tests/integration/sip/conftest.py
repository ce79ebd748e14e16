"""SIP integration fixtures: SIPp processes as independent peers, stopped after each test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The tests import their helpers (`sip_peers`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

from sip_peers import SCENARIOS, SippPeer, StartSipp, bound, free_port


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[StartSipp]:
    """Start SIPp UAS scenarios; every process is stopped at the end of the test."""
    if shutil.which("sipp") is None:
        pytest.fail("SIPp is not installed (Debian package sip-tester)")
    peers: list[SippPeer] = []

    async def start(name: str, *, transport: str = "udp", **values: str) -> SippPeer:
        text = (SCENARIOS / f"{name}.xml").read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        assert "@" not in text.split("-->", 1)[-1].replace("[", ""), f"unfilled values in {name}"
        workdir = tmp_path / f"sipp-{len(peers)}"
        workdir.mkdir()
        (workdir / f"{name}.xml").write_text(text)
        port, media_port = free_port(), free_port()
        process = await asyncio.create_subprocess_exec(
            "sipp",
            "-sf",
            f"{name}.xml",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media_port),
            "-t",
            "u1" if transport == "udp" else "t1",
            "-m",
            "1",
            "-nostdin",
            "-trace_msg",
            "-trace_err",
            "-timeout",
            "30s",
            "-timeout_error",
            cwd=workdir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        peer = SippPeer(port, transport, process, workdir, name)
        peers.append(peer)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not bound(port, transport):
            if process.returncode is not None:
                stderr = await process.stderr.read() if process.stderr else b""
                pytest.fail(f"sipp exited early: {stderr.decode()[-800:]}")
            if loop.time() > deadline:
                pytest.fail(f"sipp did not bind port {port}")
            await asyncio.sleep(0.01)
        return peer

    yield start
    for peer in peers:
        if peer.process.returncode is None:
            peer.process.kill()
        with contextlib.suppress(ProcessLookupError):
            await peer.process.wait()
