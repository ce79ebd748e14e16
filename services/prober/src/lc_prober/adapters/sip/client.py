"""The trunk client: one shared transport, response demultiplexing, many concurrent calls."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from types import TracebackType

import structlog

from lc_prober.adapters.sip.call import OutgoingCall
from lc_prober.adapters.sip.config import CallPolicy, TrunkConfig
from lc_prober.adapters.sip.linger import LingeringAcks
from lc_prober.adapters.sip.messages import (
    CallLeg,
    address_value,
    new_call_id,
    new_tag,
    request_uri,
)
from lc_prober.adapters.sip.result import CallResult
from lc_prober.adapters.sip.transaction import TxKey
from lc_prober.adapters.sip.transport import (
    SipTransport,
    TcpTransport,
    TransportError,
    UdpTransport,
    outbound_ip,
)
from lc_sip.headers import via_branch
from lc_sip.message import SipRequest, SipResponse, response_to
from lc_sip.safety import require_e164

log = structlog.get_logger("lc_prober.adapters.sip")


class SipTrunkClient:
    """A SIP user agent client placing short test calls over one trunk.

    Usage::

        async with SipTrunkClient(TrunkConfig(host="10.0.0.1")) as client:
            result = await client.call("+61212345678")
    """

    def __init__(self, config: TrunkConfig) -> None:
        self.config = config
        self.reliable = config.transport == "tcp"
        self.media_host = "127.0.0.1"
        self.rtp_bind_host = config.rtp_host or config.local_host
        self._routes: dict[TxKey, Callable[[object], None]] = {}
        self._lingering = LingeringAcks(time.monotonic)  # the event loop's clock
        self._calls: set[OutgoingCall] = set()
        self._transport: SipTransport | None = None
        self._sent_by = ""
        self._contact = ""

    async def __aenter__(self) -> SipTrunkClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def local_addr(self) -> tuple[str, int]:
        """The signalling socket's local address (after :meth:`start`)."""
        if self._transport is None:
            raise RuntimeError("client not started")
        return self._transport.local_addr

    async def start(self) -> None:
        """Open the transport (bind the UDP socket or connect over TCP)."""
        cfg = self.config
        remote = (cfg.host, cfg.port)
        local = (cfg.local_host, cfg.local_port)
        transport: SipTransport
        if cfg.transport == "tcp":
            transport = TcpTransport(remote, local, self._on_message, self._on_lost)
        else:
            transport = UdpTransport(remote, local, self._on_message, self._on_lost)
        await transport.start()
        self._transport = transport
        self._refresh_identity()

    def _refresh_identity(self) -> None:
        cfg = self.config
        assert self._transport is not None
        host, port = self._transport.local_addr
        if host in ("0.0.0.0", ""):
            host = outbound_ip(cfg.host, cfg.port)
        advertised = cfg.contact_host or host
        advertised_port = cfg.contact_port or port
        self.media_host = cfg.contact_host or host
        if self.rtp_bind_host in ("", None):
            self.rtp_bind_host = "0.0.0.0"
        self._sent_by = f"{advertised}:{advertised_port}"
        self._contact = address_value(
            cfg.from_user,
            advertised,
            advertised_port,
            transport="tcp" if self.reliable else None,
        )

    async def close(self) -> None:
        """Close the transport; calls still running end with a transport error."""
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()
        self._lingering.clear()

    def hang_up_all(self) -> int:
        """CANCEL (or BYE, if answered) every call in flight; each still returns its result.

        Returns how many calls were told to end. Calls placed afterwards are not affected.
        """
        calls = list(self._calls)
        for call in calls:
            call.hang_up()
        return len(calls)

    async def call(self, number: str, *, policy: CallPolicy | None = None) -> CallResult:
        """Place one test call to an E.164 number and return what the network said.

        Raises `UnsafeSipValue` (before anything is sent) if `number` is not E.164 or a
        value of the request would carry a line break.
        """
        require_e164(number)
        if self._transport is None:
            raise RuntimeError("client not started")
        cfg = self.config
        if isinstance(self._transport, TcpTransport) and not self._transport.connected:
            try:
                await self._transport.start()
                self._refresh_identity()
            except TransportError as exc:
                log.warning("sip_transport_down", error=str(exc))
        uri = request_uri(number, cfg.host, cfg.port, keep_plus=cfg.keep_plus, tcp=self.reliable)
        user = number if cfg.keep_plus else number.lstrip("+")
        leg = CallLeg(
            call_id=new_call_id(self._sent_by.rsplit(":", 1)[0]),
            uri=uri,
            from_value=address_value(
                cfg.from_user, cfg.from_host or cfg.host, display=cfg.from_display, tag=new_tag()
            ),
            to_value=address_value(user, cfg.host, cfg.port),
            contact_value=self._contact,
            sent_by=self._sent_by,
            transport=self._transport.name,
            user_agent=cfg.user_agent,
            asserted_identity=(
                address_value(cfg.caller_id, cfg.from_host or cfg.host)
                if cfg.caller_id is not None
                else None
            ),
        )
        call = OutgoingCall(self, leg, number, policy or cfg.policy)
        self._calls.add(call)
        try:
            return await call.run()
        finally:
            self._calls.discard(call)

    # -- CallContext -------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send bytes to the trunk."""
        if self._transport is None:
            raise TransportError("client closed")
        self._transport.send(data)

    def register(self, key: TxKey, handler: Callable[[object], None]) -> None:
        """Route responses matching key to handler."""
        self._routes[key] = handler

    def unregister(self, key: TxKey) -> None:
        """Stop routing key."""
        self._routes.pop(key, None)

    def linger_ack(self, key: TxKey, ack: bytes, seconds: float) -> None:
        """Re-send ack for retransmitted finals of a finished INVITE for a while (Timer D)."""
        self._lingering.add(key, ack, seconds)

    # -- incoming --------------------------------------------------------------------------

    def _on_message(self, message: SipRequest | SipResponse) -> None:
        if isinstance(message, SipRequest):
            self._on_request(message)
            return
        headers = message.headers
        call_ids, cseqs, vias = headers.get("call-id"), headers.get("cseq"), headers.get("via")
        if not call_ids or not cseqs:
            log.warning("sip_bad_response", code=message.code)
            return
        call_id = call_ids[0]
        method = cseqs[0].rpartition(" ")[2].upper()
        key = (call_id, (via_branch(vias[0]) if vias else None) or "", method)
        handler = self._routes.get(key)
        if handler is not None:
            handler(message)
            return
        ack = self._lingering.get(key)
        if ack is not None and message.code >= 200 and self._transport is not None:
            self._transport.send(ack)
            return
        log.debug("sip_stray_response", call_id=call_id, code=message.code, method=method)

    def _on_request(self, request: SipRequest) -> None:
        if request.method == "ACK" or self._transport is None:
            return
        code, phrase = (
            (200, "OK")
            if request.method in ("OPTIONS", "BYE")
            else (481, "Call/Transaction Does Not Exist")
        )
        with contextlib.suppress(TransportError):
            self._transport.send(response_to(request, code, phrase))

    def _on_lost(self, exc: Exception | None) -> None:
        if exc is None and self._transport is None:
            return  # our own close()
        error = exc if exc is not None else TransportError("transport closed")
        for call in list(self._calls):
            call.deliver(error)
