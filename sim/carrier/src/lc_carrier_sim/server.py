"""The carrier simulator: UDP and TCP listeners around the UAS, as an async context manager."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import structlog

from lc_carrier_sim.media import MediaPump
from lc_carrier_sim.rules import SimConfig, load_rules
from lc_carrier_sim.sipmsg import parse_request
from lc_carrier_sim.uas import CarrierUas, SimStats, SimTimers
from lc_sip.framing import SipFramer

log = structlog.get_logger("lc_carrier_sim")

TransportMode = Literal["udp", "tcp", "both"]


class _UdpServer(asyncio.DatagramProtocol):
    def __init__(self, uas: CarrierUas) -> None:
        self.uas = uas
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        req = parse_request(data)
        if req is None or self.transport is None:
            return  # responses to our requests never happen; keep-alives and junk are dropped
        transport = self.transport
        self.uas.handle(req, lambda out: transport.sendto(out, addr), False)


class _TcpConnection(asyncio.Protocol):
    def __init__(self, uas: CarrierUas, registry: set[_TcpConnection]) -> None:
        self.uas = uas
        self.registry = registry
        self.framer = SipFramer()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.registry.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except ValueError:
            if self.transport is not None:
                self.transport.abort()
            return
        for frame in frames:
            req = parse_request(frame)
            if req is not None:
                self.uas.handle(req, self._send, True)

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.registry.discard(self)


class CarrierSimulator:
    """A SIP endpoint answering like a telephone network.

    ``async with CarrierSimulator(rules="sim/carrier/rules.yaml", port=0) as sim:``
    then dial ``sip:<number>@127.0.0.1:<sim.port>`` and assert on ``sim.stats``.
    """

    def __init__(
        self,
        rules: str | Path | dict[str, Any] | SimConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        transport: TransportMode = "both",
        timers: SimTimers | None = None,
        seed: int | None = None,
    ) -> None:
        self.config = load_rules(rules)
        self.host = host
        self._port = port
        self.mode = transport
        self.media = MediaPump()
        self.uas = CarrierUas(
            self.config, host=host, media=self.media, timers=timers or SimTimers(), seed=seed
        )
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[_TcpConnection] = set()
        self.udp_port: int | None = None
        self.tcp_port: int | None = None

    @property
    def stats(self) -> SimStats:
        """Counters of what was seen (calls per number, max concurrent dialogs, ...)."""
        return self.uas.stats

    @property
    def port(self) -> int:
        """The SIP port (UDP and TCP share it in ``both`` mode)."""
        port = self.udp_port if self.udp_port is not None else self.tcp_port
        if port is None:
            raise RuntimeError("simulator not started")
        return port

    def reload(self, rules: str | Path | dict[str, Any] | SimConfig) -> None:
        """Switch to other rules while running (a carrier going down or coming back)."""
        self.config = load_rules(rules)
        self.uas.configure(self.config)

    def reset_stats(self) -> None:
        """Zero the counters (and flapping attempt counts)."""
        self.uas.stats = SimStats(active=self.uas.stats.active)
        self.uas.attempts.clear()

    async def start(self) -> None:
        """Bind the listeners; the simulator answers as soon as this returns."""
        loop = asyncio.get_running_loop()
        await self.media.start(self.host)
        for attempt in range(20):
            try:
                await self._bind(loop)
                break
            except OSError:
                # Port 0 in "both" mode: the UDP port's TCP twin may be taken; try another.
                await self._unbind()
                if self._port != 0 or attempt == 19:
                    raise
        self.uas.contact_port = self.port
        log.info(
            "carrier_sim_started",
            host=self.host,
            port=self.port,
            transport=self.mode,
            rules=len(self.config.rules),
            channels=self.config.channels,
        )

    async def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        port = self._port
        if self.mode in ("udp", "both"):
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpServer(self.uas),
                local_addr=(self.host, port),
                family=socket.AF_INET,
            )
            self.udp_port = int(self._udp.get_extra_info("sockname")[1])
            sock = self._udp.get_extra_info("socket")
            for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
                # Bursts of thousands of calls overflow the default buffers.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, option, 8 * 1024 * 1024)
            port = self.udp_port
        if self.mode in ("tcp", "both"):
            self._tcp = await loop.create_server(
                lambda: _TcpConnection(self.uas, self._connections),
                self.host,
                port,
                family=socket.AF_INET,
                reuse_address=True,
            )
            self.tcp_port = int(self._tcp.sockets[0].getsockname()[1])

    async def _unbind(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None
        self.udp_port = self.tcp_port = None

    async def stop(self) -> None:
        """Stop listening and drop every transaction."""
        self.uas.shutdown()
        self.media.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.close()
        await self._unbind()

    async def __aenter__(self) -> CarrierSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
