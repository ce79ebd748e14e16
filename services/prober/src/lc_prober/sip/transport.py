"""One shared signalling transport per trunk: a UDP socket or a TCP connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Protocol, cast

import structlog

from lc_sip.framing import SipFramer
from lc_sip.message import SipRequest, SipResponse
from lc_sip.message import parse_message as parse_sip

log = structlog.get_logger("lc_prober.sip.transport")


MessageHandler = Callable[[SipRequest | SipResponse], None]
LostHandler = Callable[[Exception | None], None]


class TransportError(ConnectionError):
    """The signalling transport is not usable."""


def parse_message(data: bytes) -> SipRequest | SipResponse | None:
    """Parse one datagram/frame; None (logged) when it is not SIP."""
    try:
        return parse_sip(data)
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("sip_parse_failed", error=str(exc), size=len(data))
        return None


class SipTransport(Protocol):
    """What the client needs from a transport."""

    name: str
    reliable: bool
    local_addr: tuple[str, int]

    async def start(self) -> None: ...
    def send(self, data: bytes) -> None: ...
    async def close(self) -> None: ...


def outbound_ip(host: str, port: int) -> str:
    """The local address the kernel would use to reach host:port (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, port))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def enlarge_buffers(sock: socket.socket | None, size: int = 4 * 1024 * 1024) -> None:
    """Ask for big socket buffers: hundreds of calls answering at once overflow the default
    and a lost 180 is never retransmitted (the kernel caps the size at net.core.rmem_max)."""
    if sock is None:
        return
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, size)


class UdpTransport(asyncio.DatagramProtocol):
    """A UDP socket shared by every call on the trunk; responses are demultiplexed above."""

    name = "UDP"
    reliable = False

    def __init__(
        self,
        remote: tuple[str, int],
        local: tuple[str, int],
        on_message: MessageHandler,
        on_lost: LostHandler,
    ) -> None:
        self._remote_name = remote
        self._remote: tuple[str, int] = remote
        self._local = local
        self._on_message = on_message
        self._on_lost = on_lost
        self._transport: asyncio.DatagramTransport | None = None
        self.local_addr: tuple[str, int] = local

    async def start(self) -> None:
        """Resolve the trunk once and bind the socket."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            self._remote_name[0],
            self._remote_name[1],
            family=socket.AF_INET,
            type=socket.SOCK_DGRAM,
        )
        if not infos:
            raise TransportError(f"cannot resolve {self._remote_name[0]}")
        self._remote = (str(infos[0][4][0]), int(infos[0][4][1]))
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=self._local, family=socket.AF_INET
        )
        host, port = self._transport.get_extra_info("sockname")[:2]
        self.local_addr = (host, port)
        enlarge_buffers(self._transport.get_extra_info("socket"))

    def send(self, data: bytes) -> None:
        """Send one datagram to the trunk."""
        if self._transport is None or self._transport.is_closing():
            raise TransportError("UDP transport is closed")
        self._transport.sendto(data, self._remote)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # keep-alive
        message = parse_message(data)
        if message is not None:
            self._on_message(message)

    def error_received(self, exc: Exception) -> None:
        log.warning("udp_error", error=str(exc))

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_lost(exc)

    async def close(self) -> None:
        """Close the socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class TcpTransport(asyncio.Protocol):
    """One TCP connection to the trunk, opened at start and on demand after a loss."""

    name = "TCP"
    reliable = True

    def __init__(
        self,
        remote: tuple[str, int],
        local: tuple[str, int],
        on_message: MessageHandler,
        on_lost: LostHandler,
    ) -> None:
        self._remote = remote
        self._local = local
        self._on_message = on_message
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._framer = SipFramer()
        self._lock = asyncio.Lock()
        self.local_addr: tuple[str, int] = local

    async def start(self) -> None:
        """Connect (again) if not connected."""
        async with self._lock:
            if self._transport is not None and not self._transport.is_closing():
                return
            loop = asyncio.get_running_loop()
            local = None if self._local == ("0.0.0.0", 0) else self._local
            try:
                await loop.create_connection(
                    lambda: self, self._remote[0], self._remote[1], local_addr=local
                )
            except OSError as exc:
                raise TransportError(f"TCP connect to {self._remote} failed: {exc}") from exc

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._framer = SipFramer()
        host, port = transport.get_extra_info("sockname")[:2]
        self.local_addr = (host, port)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._framer.feed(data)
        except ValueError as exc:
            log.warning("tcp_framing_failed", error=str(exc))
            if self._transport is not None:
                self._transport.abort()
            return
        for frame in frames:
            message = parse_message(frame)
            if message is not None:
                self._on_message(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._on_lost(exc or TransportError("TCP connection closed by peer"))

    def send(self, data: bytes) -> None:
        """Write one message on the connection."""
        if self._transport is None or self._transport.is_closing():
            raise TransportError("TCP connection is not open")
        self._transport.write(data)

    @property
    def connected(self) -> bool:
        """Whether the connection is open."""
        return self._transport is not None and not self._transport.is_closing()

    async def close(self) -> None:
        """Close the connection."""
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
