"""Helpers of the SIP integration tests: SIPp peers, free ports, fast trunk configs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from lc_prober.adapters.sip import CallPolicy, SipTimers, TrunkConfig

SCENARIOS = Path(__file__).parent / "scenarios"
T1 = 0.05
FAST = SipTimers(t1=T1, t2=0.4, timer_d=0.5)


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def trunk(port: int, transport: str = "udp", **overrides: object) -> TrunkConfig:
    """A trunk config towards a local peer, with fast timers."""
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "transport": transport,
        "local_host": "127.0.0.1",
        "timers": FAST,
        "policy": CallPolicy(early_media_seconds=2.0),
    }
    options.update(overrides)
    return TrunkConfig(**options)  # type: ignore[arg-type]


def bound(port: int, transport: str) -> bool:
    """Whether something listens on 127.0.0.1:port (read from /proc, without touching it)."""
    table = "/proc/net/udp" if transport == "udp" else "/proc/net/tcp"
    wanted = f"0100007F:{port:04X}"
    with open(table) as fh:
        for line in fh.readlines()[1:]:
            fields = line.split()
            if fields[1] == wanted and (transport == "udp" or fields[3] == "0A"):
                return True
    return False


@dataclass
class SippPeer:
    """One SIPp process running one UAS scenario for exactly one call."""

    port: int
    transport: str
    process: asyncio.subprocess.Process
    workdir: Path
    scenario: str

    async def finish(self, timeout: float = 15.0) -> int:
        """Wait for SIPp to end its call and exit; its exit code (0: scenario completed)."""
        return await asyncio.wait_for(self.process.wait(), timeout)

    def messages(self) -> str:
        """SIPp's trace of every message sent and received."""
        return "".join(p.read_text() for p in self.workdir.glob(f"{self.scenario}_*_messages.log"))

    def errors(self) -> str:
        """SIPp's error log."""
        return "".join(p.read_text() for p in self.workdir.glob(f"{self.scenario}_*_errors.log"))

    def received(self, method: str) -> list[str]:
        """Requests of a method SIPp received, as text."""
        chunks = self.messages().split("----------------------------------------------- ")
        return [c for c in chunks if "message received" in c and f"\n\n{method} " in c]


StartSipp = Callable[..., Awaitable[SippPeer]]
