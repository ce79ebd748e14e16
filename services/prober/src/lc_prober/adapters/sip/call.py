"""One test call: the INVITE client transaction (RFC 3261 17.1.1) and what follows it.

The call is a single coroutine waiting on a mailbox of responses with a deadline set to
the next deadline (Timer A retransmission, Timer B, the cancel policy, the guard after
CANCEL), so hundreds of calls share one event loop and one transport cheaply.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from lc_prober.adapters.media.classify import classify_audio
from lc_prober.adapters.media.rtp import RtpReceiver
from lc_prober.adapters.media.sdp import build_offer
from lc_prober.adapters.media.sit import SitDetection
from lc_prober.adapters.sip.config import CallPolicy, TrunkConfig
from lc_prober.adapters.sip.digest import DigestError, answer_challenge
from lc_prober.adapters.sip.mailbox import TIMED_OUT, Mailbox
from lc_prober.adapters.sip.messages import CallLeg, new_branch, random_hex
from lc_prober.adapters.sip.reason import parse_reason, q850_cause
from lc_prober.adapters.sip.result import CallResult, EarlyMedia, EndedBy, ResponseRecord
from lc_prober.adapters.sip.transaction import TxKey, begin_non_invite, finish_non_invite
from lc_prober.adapters.sip.transport import TransportError
from lc_sip.message import SipResponse

log = structlog.get_logger("lc_prober.adapters.sip")


class CallContext(Protocol):
    """What a call needs from the trunk client (kept narrow so calls are testable)."""

    config: TrunkConfig
    reliable: bool
    media_host: str
    rtp_bind_host: str

    def send(self, data: bytes) -> None: ...
    def register(self, key: TxKey, handler: Callable[[object], None]) -> None: ...
    def unregister(self, key: TxKey) -> None: ...
    def linger_ack(self, key: TxKey, ack: bytes, seconds: float) -> None: ...


class _SitHeard:
    """Mailbox marker: the RTP receiver completed a SIT."""


_SIT_HEARD = _SitHeard()


class _HangUp:
    """Mailbox marker: end the call now (the prober is stopping)."""


_HANG_UP = _HangUp()
HUNG_UP = "hung up: prober stopping"
"""The `error` of a call ended early by :meth:`OutgoingCall.hang_up`."""


@dataclass(slots=True)
class _Outcome:
    ended_by: EndedBy
    final_code: int | None = None
    error: str | None = None


class OutgoingCall:
    """Runs one test call to completion; use :meth:`run` once."""

    def __init__(self, ctx: CallContext, leg: CallLeg, number: str, policy: CallPolicy) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.leg = leg
        self.number = number
        self.policy = policy
        self.responses: list[ResponseRecord] = []
        self._loop = asyncio.get_running_loop()
        self._mailbox = Mailbox(self._loop)
        self._t0 = 0.0
        self._keys: set[TxKey] = set()
        self._seen: set[tuple[int, str]] = set()
        self._receiver: RtpReceiver | None = None
        self._early_started: float | None = None
        self._early_ended: float | None = None
        self._cancel_task: asyncio.Task[SipResponse | None] | None = None
        self._hung_up = False

    # -- plumbing -------------------------------------------------------------------------

    def deliver(self, event: object) -> None:
        """Hand a response (or a transport failure) to the call."""
        self._mailbox.put(event)

    def hang_up(self) -> None:
        """End the call as soon as SIP allows: CANCEL now, or at its first provisional
        response if none came yet (RFC 3261 9.1); an answered call is hung up anyway."""
        self._mailbox.put(_HANG_UP)

    def _register(self, key: TxKey) -> None:
        self._keys.add(key)
        self.ctx.register(key, self.deliver)

    def _unregister(self, key: TxKey) -> None:
        self._keys.discard(key)
        self.ctx.unregister(key)

    def _now_ms(self) -> int:
        return int((self._loop.time() - self._t0) * 1000)

    def _sit_heard(self, _sit: SitDetection) -> None:
        self._mailbox.put(_SIT_HEARD)

    def _record(self, resp: SipResponse) -> None:
        to_value = resp.get("to") or ""
        if resp.code < 200 and (resp.code, to_value) in self._seen:
            return  # a retransmitted provisional
        self._seen.add((resp.code, to_value))
        reasons = resp.getlist("reason")
        raw_reason = ", ".join(reasons) if reasons else None
        record = ResponseRecord(
            code=resp.code,
            reason=resp.phrase,
            at_ms=self._now_ms(),
            q850_cause=q850_cause(parse_reason(reasons)) if reasons else None,
            reason_header=raw_reason,
            has_sdp=resp.has_sdp,
            retry_after=resp.get("retry-after"),
        )
        self.responses.append(record)

    # -- the call -------------------------------------------------------------------------

    async def run(self) -> CallResult:
        """Place the call, follow it to its end and return what was observed."""
        self._t0 = self._loop.time()
        started_at = datetime.now(UTC)
        try:
            sdp = b""
            if self.cfg.media:
                self._receiver = RtpReceiver(
                    max_seconds=self.policy.early_media_seconds + 2.0, on_sit=self._sit_heard
                )
                port = self._receiver.reserve(self.ctx.rtp_bind_host)
                sdp = build_offer(self.ctx.media_host, port, int(random_hex(4), 16) >> 1)
            outcome = await self._invite(sdp)
        except TransportError as exc:
            outcome = _Outcome("transport_error", error=str(exc))
        except OSError as exc:
            outcome = _Outcome("transport_error", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._mailbox.close()
            for key in list(self._keys):
                self._unregister(key)
            if self._cancel_task is not None and not self._cancel_task.done():
                self._cancel_task.cancel()
            if self._receiver is not None:
                if not self._receiver.listening:
                    self._receiver.drain()  # RTP sent without a provisional with SDP
                self._receiver.close()
        result = CallResult(
            call_id=self.leg.call_id,
            number=self.number,
            started_at=started_at,
            duration_ms=self._now_ms(),
            responses=tuple(self.responses),
            final_code=outcome.final_code,
            ended_by=outcome.ended_by,
            early_media=self._early_media(),
            error=outcome.error,
        )
        log.debug(
            "sip_call_done",
            call_id=result.call_id,
            number=result.number,
            ended_by=result.ended_by,
            final_code=result.final_code,
            codes=list(result.codes),
            duration_ms=result.duration_ms,
            early_media=result.early_media.finding if result.early_media else None,
        )
        return result

    def _early_media(self) -> EarlyMedia | None:
        receiver = self._receiver
        if receiver is None or (self._early_started is None and receiver.packets == 0):
            return None
        started = self._early_started if self._early_started is not None else self._t0
        ended = self._early_ended if self._early_ended is not None else self._loop.time()
        listened_ms = max(0, int((ended - started) * 1000))
        if receiver.packets == 0:
            return EarlyMedia(listened_ms=listened_ms, packets=0, codec=None, finding="none")
        finding = classify_audio(receiver.audio())
        return EarlyMedia(
            listened_ms=listened_ms,
            packets=receiver.packets,
            codec="PCMA" if receiver.payload_type == 8 else "PCMU",
            finding=finding.finding,
            sit_kind=finding.sit_kind,
            confidence=finding.confidence,
            fingerprint=finding.fingerprint,
        )

    async def _invite(self, sdp: bytes) -> _Outcome:
        t1 = self.cfg.timers.t1
        policy = self.policy
        branch = new_branch()
        data = self.leg.invite(branch, sdp)
        key: TxKey = (self.leg.call_id, branch, "INVITE")
        self._register(key)
        self.ctx.send(data)
        now = self._loop.time()
        calling = True
        interval = t1
        next_retransmit = math.inf if self.ctx.reliable else now + t1
        timer_b = now + self.cfg.timers.timer_b
        cancel_at = proceeding_deadline = cancel_guard = math.inf
        hard_deadline = self._t0 + self.cfg.max_call_seconds
        cancelled = auth_tried = False

        while True:
            now = self._loop.time()
            if calling and now >= timer_b:
                return _Outcome("no_response", error="Timer B: no response to INVITE")
            if calling and now >= next_retransmit:
                self.ctx.send(data)  # Timer A
                interval *= 2
                next_retransmit = now + interval
            if not calling and not cancelled and now >= min(cancel_at, proceeding_deadline):
                self._send_cancel(branch)
                cancelled = True
                cancel_guard = now + self.cfg.timers.timer_b
                if self._early_started is not None:
                    self._early_ended = now
            if cancelled and now >= cancel_guard:
                return _Outcome("cancelled", error="no final response within 64*T1 of CANCEL")
            if now >= hard_deadline:
                return _Outcome("no_response", error="max_call_seconds exceeded")
            wake = min(
                next_retransmit if calling else math.inf,
                timer_b if calling else math.inf,
                math.inf if cancelled else min(cancel_at, proceeding_deadline),
                cancel_guard,
                hard_deadline,
            )
            event = await self._mailbox.next(wake)
            if event is TIMED_OUT:
                continue
            now = self._loop.time()
            if event is _HANG_UP:
                self._hung_up = True
                cancel_at = now
                continue
            if event is _SIT_HEARD:
                if policy.cancel_on_sit and self._early_started is not None:
                    cancel_at = min(cancel_at, now)
                continue
            if isinstance(event, Exception):
                return _Outcome("transport_error", error=str(event))
            if not isinstance(event, SipResponse):
                continue
            resp = event
            self._record(resp)
            if resp.code < 200:
                if calling:
                    calling = False
                    proceeding_deadline = now + policy.proceeding_seconds
                if resp.code == 180:
                    cancel_at = min(cancel_at, now + policy.ring_seconds)
                if resp.has_sdp and self._receiver is not None and self._early_started is None:
                    self._receiver.listen()
                    self._early_started = now
                    if resp.code != 180:
                        cancel_at = min(cancel_at, now + policy.early_media_seconds)
                    if self._receiver.sit is not None and policy.cancel_on_sit:
                        cancel_at = now
                continue
            if self._early_started is not None and self._early_ended is None:
                self._early_ended = now
            if resp.code < 300:
                return await self._answered(resp, key)
            ack = self.leg.ack_for_failure(branch, resp)
            self.ctx.send(ack)
            self._linger(key, ack, 0.0 if self.ctx.reliable else self.cfg.timers.timer_d)
            if resp.code in (401, 407):
                if auth_tried or cancelled or not self.cfg.has_credentials:
                    return _Outcome(
                        "auth_failed",
                        final_code=resp.code,
                        error="credentials rejected" if auth_tried else "authentication required",
                    )
                auth_tried = True
                try:
                    extra = self._credentials(resp)
                except DigestError as exc:
                    return _Outcome("auth_failed", final_code=resp.code, error=str(exc))
                self.leg.cseq += 1
                branch = new_branch()
                data = self.leg.invite(branch, sdp, extra=(extra,))
                key = (self.leg.call_id, branch, "INVITE")
                self._register(key)
                self.ctx.send(data)
                calling, interval = True, t1
                next_retransmit = math.inf if self.ctx.reliable else now + t1
                timer_b = now + self.cfg.timers.timer_b
                continue
            ended: EndedBy = "cancelled" if cancelled and resp.code == 487 else "final"
            error = HUNG_UP if ended == "cancelled" and self._hung_up else None
            return _Outcome(ended, final_code=resp.code, error=error)

    def _linger(self, key: TxKey, ack: bytes, seconds: float) -> None:
        self._unregister(key)
        if seconds > 0:
            self.ctx.linger_ack(key, ack, seconds)

    def _credentials(self, resp: SipResponse) -> tuple[str, str]:
        header_in, header_out = (
            ("WWW-Authenticate", "Authorization")
            if resp.code == 401
            else ("Proxy-Authenticate", "Proxy-Authorization")
        )
        challenges = resp.getlist(header_in)
        if not challenges:
            raise DigestError(f"{resp.code} without {header_in}")
        assert self.cfg.username is not None and self.cfg.password is not None
        errors = []
        for challenge in challenges:
            try:
                creds = answer_challenge(
                    challenge,
                    username=self.cfg.username,
                    password=self.cfg.password,
                    method="INVITE",
                    uri=self.leg.uri,
                )
            except DigestError as exc:
                errors.append(str(exc))
                continue
            return header_out, creds.header_value
        raise DigestError("; ".join(errors))

    def _send_cancel(self, invite_branch: str) -> None:
        data = self.leg.cancel(invite_branch)
        # Sent now, not when the task first runs, so it precedes anything sent after it.
        mailbox = self._begin_non_invite(data, invite_branch, "CANCEL")
        self._cancel_task = asyncio.create_task(
            self._finish_non_invite(data, (self.leg.call_id, invite_branch, "CANCEL"), mailbox)
        )

    async def _answered(self, resp: SipResponse, key: TxKey) -> _Outcome:
        ack = self.leg.ack_for_success(resp, new_branch())
        self.ctx.send(ack)
        # Retransmitted 2xx are re-ACKed for 64*T1 (13.2.2.4).
        self._linger(key, ack, self.cfg.timers.timer_b)
        branch = new_branch()
        bye_resp = await self._non_invite(self.leg.bye(resp, branch), branch, "BYE")
        error = None if bye_resp is not None else "no response to BYE"
        return _Outcome("answered", final_code=resp.code, error=error)

    async def _non_invite(self, data: bytes, branch: str, method: str) -> SipResponse | None:
        """A non-INVITE client transaction (17.1.2): Timer E retransmits, Timer F gives up."""
        mailbox = self._begin_non_invite(data, branch, method)
        return await self._finish_non_invite(data, (self.leg.call_id, branch, method), mailbox)

    def _begin_non_invite(self, data: bytes, branch: str, method: str) -> Mailbox:
        key: TxKey = (self.leg.call_id, branch, method)
        self._keys.add(key)
        return begin_non_invite(self.ctx, self._loop, key, data)

    async def _finish_non_invite(
        self, data: bytes, key: TxKey, mailbox: Mailbox
    ) -> SipResponse | None:
        try:
            return await finish_non_invite(self.ctx, self._loop, self.cfg.timers, data, mailbox)
        finally:
            self._unregister(key)
