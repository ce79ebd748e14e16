"""The simulated network's user agent server: INVITE transactions, dialogs and behaviours."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from lc_carrier_sim.auth import DigestAuthenticator
from lc_carrier_sim.media import MediaPump
from lc_carrier_sim.rules import Rule, SimConfig
from lc_carrier_sim.sipmsg import SipRequest, build_response
from lc_sip.phrases import phrase
from lc_sip.sdp import audio_sdp, parse_audio

log = structlog.get_logger("lc_carrier_sim")

Send = Callable[[bytes], None]
CHANNEL_LIMIT_REASON = 'Reason: Q.850;cause=34;text="No circuit/channel available"'


@dataclass(slots=True)
class SimStats:
    """What the simulator saw, for tests and benchmarks to assert on."""

    calls: Counter[str] = field(default_factory=Counter)
    """New calls per +E.164 number (authenticated re-sends not counted again)."""
    invites: Counter[str] = field(default_factory=Counter)
    """INVITE requests per number, retransmissions included."""
    responses: Counter[int] = field(default_factory=Counter)
    """Responses sent per code (retransmissions excluded)."""
    acks: int = 0
    cancels: int = 0
    byes: int = 0
    auth_challenges: int = 0
    channel_rejects: int = 0
    active: int = 0
    max_concurrent: int = 0
    started: list[float] = field(default_factory=list)
    """`time.monotonic()` of each new call, in arrival order (for rates over windows)."""


@dataclass(slots=True, eq=False)
class InviteTx:
    """One INVITE server transaction and the dialog it may create."""

    req: SipRequest
    send: Send
    reliable: bool
    number: str
    rule: Rule | None
    to_tag: str = field(default_factory=lambda: secrets.token_hex(5))
    last: bytes | None = None
    final: int | None = None
    confirmed: bool = False
    holds_channel: bool = False
    dropped: int = 0
    started: bool = False
    task: asyncio.Task[None] | None = None
    timer: asyncio.TimerHandle | None = None
    guard: asyncio.TimerHandle | None = None
    stream: int | None = None


@dataclass(frozen=True, slots=True)
class SimTimers:
    """UAS timers in seconds (RFC 3261 17.2.1); tests shrink them."""

    t1: float = 0.5
    t2: float = 4.0
    dialog_seconds: float = 120.0
    """An answered dialog never BYEd is dropped after this long."""


class CarrierUas:
    """Answers requests like a telephone network, according to the rules."""

    def __init__(
        self,
        config: SimConfig,
        *,
        host: str,
        media: MediaPump,
        timers: SimTimers,
        seed: int | None = None,
    ) -> None:
        self.config = config
        self.host = host
        self.contact_port = 0
        self.media = media
        self.timers = timers
        self.stats = SimStats()
        self.attempts: Counter[str] = Counter()
        self._auth = DigestAuthenticator(config.auth) if config.auth else None
        self._rng = random.Random(seed)
        self._by_branch: dict[tuple[str, str], InviteTx] = {}
        self._by_call: dict[str, InviteTx] = {}

    def configure(self, config: SimConfig) -> None:
        """Answer new calls by other rules from now on (calls in progress keep theirs)."""
        self.config = config
        self._auth = DigestAuthenticator(config.auth) if config.auth else None

    # -- dispatch -----------------------------------------------------------------------------

    def handle(self, req: SipRequest, send: Send, reliable: bool) -> None:
        """Process one request from a transport."""
        method = req.method
        if method == "INVITE":
            self._invite(req, send, reliable)
        elif method == "ACK":
            self._ack(req)
        elif method == "CANCEL":
            self._cancel(req, send)
        elif method == "BYE":
            self._bye(req, send)
        elif method == "OPTIONS":
            send(build_response(req, 200, "OK"))
        else:
            send(build_response(req, 501, "Not Implemented"))

    def _respond(
        self, tx: InviteTx, code: int, *, extra: tuple[str, ...] = (), body: bytes = b""
    ) -> None:
        contact = f"<sip:{self.host}:{self.contact_port}>" if code < 300 and code != 100 else None
        data = build_response(
            tx.req, code, phrase(code), to_tag=tx.to_tag, contact=contact, extra=extra, body=body
        )
        tx.last = data
        self.stats.responses[code] += 1
        tx.send(data)

    # -- INVITE -------------------------------------------------------------------------------

    def _invite(self, req: SipRequest, send: Send, reliable: bool) -> None:
        key = (req.call_id, req.branch)
        number = req.number
        self.stats.invites[number] += 1
        tx = self._by_branch.get(key)
        if tx is None:
            rule = self.config.match(number)
            tx = InviteTx(req=req, send=send, reliable=reliable, number=number, rule=rule)
            self._by_branch[key] = tx
            self._by_call[req.call_id] = tx
            if self._auth is None or not req.headers.get("authorization"):
                self.stats.calls[number] += 1
                self.stats.started.append(time.monotonic())
        elif tx.started:
            if tx.last is not None:
                tx.send(tx.last)  # retransmitted INVITE: repeat the last response
            return
        if tx.rule is not None and tx.dropped < tx.rule.drop_first_invites:
            if tx.dropped == 0:
                asyncio.get_running_loop().call_later(64 * self.timers.t1, self._forget, tx)
            tx.dropped += 1
            return
        tx.started = True
        self._start(tx)

    def _start(self, tx: InviteTx) -> None:
        rule = tx.rule
        if rule is not None and rule.behaviour == "no_response":
            # Forget it after Timer B so memory stays bounded.
            asyncio.get_running_loop().call_later(64 * self.timers.t1, self._forget, tx)
            return
        if self._auth is not None:
            authorization = tx.req.get("authorization")
            if not authorization or not self._auth.verify("INVITE", authorization):
                self.stats.auth_challenges += 1
                self._final(tx, 401, extra=("WWW-Authenticate: " + self._auth.challenge(),))
                return
        if self.stats.active >= self.config.channels:
            self.stats.channel_rejects += 1
            self._final(
                tx, 503, extra=('Reason: Q.850;cause=34;text="No circuit/channel available"',)
            )
            return
        tx.holds_channel = True
        self.stats.active += 1
        self.stats.max_concurrent = max(self.stats.max_concurrent, self.stats.active)
        if rule is None:
            self._final(tx, 404)
            return
        self._respond(tx, 100)
        if (
            rule.behaviour
            in (
                "busy",
                "not_found",
                "gone",
                "address_incomplete",
                "unavailable",
                "service_unavailable",
                "decline",
                "reject",
            )
            and rule.delay_ms[1] == 0
        ):
            self._reject(tx, rule, rule.final_code)  # the hot path: no task needed
            return
        tx.task = asyncio.get_running_loop().create_task(self._behave(tx, rule))

    def _reject(self, tx: InviteTx, rule: Rule, code: int) -> None:
        extra: tuple[str, ...] = ()
        if rule.reason_q850 is not None:
            text = f';text="{rule.reason_text}"' if rule.reason_text else ""
            extra = (f"Reason: Q.850;cause={rule.reason_q850}{text}",)
        self._final(tx, code, extra=extra)

    async def _behave(self, tx: InviteTx, rule: Rule) -> None:
        delay = rule.delay_seconds(self._rng)
        if delay:
            await asyncio.sleep(delay)
        behaviour = rule.behaviour
        if behaviour == "flapping":
            self.attempts[tx.number] += 1
            attempt = self.attempts[tx.number]
            if attempt <= rule.fail_attempts:
                codes = rule.fail_codes or [480]
                self._reject(tx, rule, codes[(attempt - 1) % len(codes)])
                return
            behaviour = "ring"
        if behaviour == "ring":
            self._respond(tx, 180)
        elif behaviour in ("ring_early_media", "intercept", "announcement", "caller_tune"):
            clips = {
                "ring_early_media": f"ringback:{rule.ringback}",
                "intercept": f"sit:{rule.sit_kind}",
                "announcement": f"announcement:{rule.announcement}",
                "caller_tune": "caller_tune:",
            }
            self._early_media(tx, clips[behaviour])
        elif behaviour == "answer":
            self._respond(tx, 180)
            if rule.answer_after_ms:
                await asyncio.sleep(rule.answer_after_ms / 1000)
            self._answer(tx)
            return
        else:
            self._reject(tx, rule, rule.final_code)
            return
        await asyncio.sleep(rule.max_ring_ms / 1000)
        self._final(tx, 480, extra=('Reason: Q.850;cause=19;text="No answer from user"',))

    def _early_media(self, tx: InviteTx, clip: str) -> None:
        offer = parse_audio(tx.req.body)
        if offer is None or offer.host is None:
            self._respond(tx, 180)  # no SDP offer: nothing to play to
            return
        pt = next((p for p in offer.payload_types if p in (0, 8)), 0)
        self._respond(tx, 183, body=self._sdp_answer(pt))
        tx.stream = self.media.play((offer.host, offer.port), clip, pt)

    def _answer(self, tx: InviteTx) -> None:
        offer = parse_audio(tx.req.body)
        pt = next((p for p in offer.payload_types if p in (0, 8)), 0) if offer else 0
        self._final(tx, 200, body=self._sdp_answer(pt))

    def _sdp_answer(self, payload_type: int) -> bytes:
        return audio_sdp(self.host, self.media.port, (payload_type,), origin="carrier-sim")

    # -- finals and their retransmission (Timer G/H, 13.3.1.4 for 2xx) --------------------------

    def _final(
        self, tx: InviteTx, code: int, *, extra: tuple[str, ...] = (), body: bytes = b""
    ) -> None:
        if tx.final is not None:
            return
        self.media.stop(tx.stream)
        tx.stream = None
        tx.final = code
        self._respond(tx, code, extra=extra, body=body)
        loop = asyncio.get_running_loop()
        if not tx.reliable:
            tx.timer = loop.call_later(self.timers.t1, self._retransmit, tx, self.timers.t1)
        tx.guard = loop.call_later(64 * self.timers.t1, self._no_ack, tx)

    def _retransmit(self, tx: InviteTx, interval: float) -> None:
        if tx.last is not None:
            tx.send(tx.last)
        interval = min(2 * interval, self.timers.t2)
        tx.timer = asyncio.get_running_loop().call_later(interval, self._retransmit, tx, interval)

    def _no_ack(self, tx: InviteTx) -> None:
        log.debug("sim_no_ack", call_id=tx.req.call_id, code=tx.final)
        self._end(tx)

    def _ack(self, req: SipRequest) -> None:
        self.stats.acks += 1
        tx = self._by_branch.get((req.call_id, req.branch)) or self._by_call.get(req.call_id)
        if tx is None or tx.final is None or tx.confirmed:
            return
        if tx.timer is not None:
            tx.timer.cancel()
            tx.timer = None
        if tx.final < 300:
            tx.confirmed = True
            if tx.guard is not None:
                tx.guard.cancel()
            tx.guard = asyncio.get_running_loop().call_later(
                self.timers.dialog_seconds, self._end, tx
            )
        else:
            self._end(tx)

    # -- CANCEL and BYE -----------------------------------------------------------------------

    def _cancel(self, req: SipRequest, send: Send) -> None:
        self.stats.cancels += 1
        tx = self._by_branch.get((req.call_id, req.branch))
        if tx is None:
            send(build_response(req, 481, phrase(481)))
            return
        send(build_response(req, 200, "OK", to_tag=tx.to_tag))
        self.stats.responses[200] += 1
        if tx.final is None and tx.last is not None:
            if tx.task is not None:
                tx.task.cancel()
            self._final(tx, 487)

    def _bye(self, req: SipRequest, send: Send) -> None:
        self.stats.byes += 1
        tx = self._by_call.get(req.call_id)
        if tx is None or tx.final is None or tx.final >= 300:
            send(build_response(req, 481, phrase(481)))
            return
        send(build_response(req, 200, "OK"))
        self._end(tx)

    # -- cleanup ------------------------------------------------------------------------------

    def _end(self, tx: InviteTx) -> None:
        for handle in (tx.timer, tx.guard):
            if handle is not None:
                handle.cancel()
        tx.timer = tx.guard = None
        if tx.task is not None and not tx.task.done():
            tx.task.cancel()
        self.media.stop(tx.stream)
        if tx.holds_channel:
            tx.holds_channel = False
            self.stats.active -= 1
        self._forget(tx)

    def _forget(self, tx: InviteTx) -> None:
        key = (tx.req.call_id, tx.req.branch)
        if self._by_branch.get(key) is tx:
            del self._by_branch[key]
        if self._by_call.get(tx.req.call_id) is tx:
            del self._by_call[tx.req.call_id]

    def shutdown(self) -> None:
        """Cancel every timer and task (the simulator is stopping)."""
        for tx in list(self._by_branch.values()):
            self._end(tx)
