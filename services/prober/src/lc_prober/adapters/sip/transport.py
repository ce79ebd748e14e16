"""One shared signalling transport per trunk: a UDP socket or a TCP connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable
from typing import Protocol, cast

import structlog

from lc_sip.framing import SipFramer
from lc_sip.message import SipRequest, SipResponse
from lc_sip.message import parse_message as parse_sip

log = structlog.get_logger("lc_prober.adapters.sip.transport")


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


class UdpTransport:
    """A UDP socket shared by every call on the trunk; responses are demultiplexed above.

    The socket is read straight from the event loop's selector rather than through an
    asyncio datagram transport, which takes one loop iteration per datagram: with
    hundreds of calls answering at once, each wake-up here reads every datagram queued
    (up to a bound, so the trunk cannot starve the rest of the loop). Sends go out at
    once and are queued only while the socket's buffer is full.
    """

    name = "UDP"
    reliable = False
    _READ_BATCH = 64

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
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backlog: deque[bytes] = deque()
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
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind(self._local)
        except OSError:
            sock.close()
            raise
        enlarge_buffers(sock)
        host, port = sock.getsockname()[:2]
        self.local_addr = (host, port)
        self._sock, self._loop = sock, loop
        loop.add_reader(sock.fileno(), self._readable)

    def send(self, data: bytes) -> None:
        """Send one datagram to the trunk."""
        sock = self._sock
        if sock is None:
            raise TransportError("UDP transport is closed")
        if self._backlog:
            self._backlog.append(data)
            return
        try:
            sock.sendto(data, self._remote)
        except (BlockingIOError, InterruptedError):
            self._backlog.append(data)
            assert self._loop is not None
            self._loop.add_writer(sock.fileno(), self._writable)
        except OSError as exc:
            log.warning("udp_error", error=str(exc))

    def _writable(self) -> None:
        sock = self._sock
        while sock is not None and self._backlog:
            try:
                sock.sendto(self._backlog[0], self._remote)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("udp_error", error=str(exc))
            self._backlog.popleft()
        if sock is not None and self._loop is not None:
            self._loop.remove_writer(sock.fileno())

    def _readable(self) -> None:
        for _ in range(self._READ_BATCH):
            sock = self._sock
            if sock is None:
                return
            try:
                data = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("udp_error", error=str(exc))
                return
            self.datagram_received(data)

    def datagram_received(self, data: bytes) -> None:
        """Parse and hand on one datagram (keep-alives and garbage are dropped)."""
        if not data.strip():
            return  # keep-alive
        message = parse_message(data)
        if message is not None:
            self._on_message(message)

    async def close(self) -> None:
        """Close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
            self._loop.remove_writer(sock.fileno())
        sock.close()
        self._backlog.clear()
        self._on_lost(None)


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
