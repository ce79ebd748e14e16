"""What the notifier does: final emails on `batch.events`, "out of credit" emails on
`billing.events`, daily summaries on a timer.

Every email goes through `deliver`, which checks the notification log, reads what
the email needs from the peers, claims the key, sends and records the outcome.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, cast

import structlog

from lc_common.clock import Clock
from lc_common.errors import PoisonEvent
from lc_common.events import BatchEventV1, CreditEventV1, LeadVerdictV1
from lc_notifier import domain
from lc_notifier.adapters.peers import PeerError, PeerNotFound
from lc_notifier.adapters.store import ActivityLog, NotificationLog
from lc_notifier.domain import Notification
from lc_notifier.emails import Email, Renderer
from lc_notifier.metrics import (
    DAILY_RUN_SECONDS,
    EMAILS_SENT,
    NOTIFICATIONS_SKIPPED,
    PEER_FAILURES,
    SEND_FAILURES,
)
from lc_notifier.ports import Mailer, PeerReader
from lc_notifier.webhooks.events import on_batch_event, on_credit_event, on_daily_due
from lc_notifier.webhooks.sender import WebhookDeps
from lc_notifier.zones import AccountZones

log = structlog.get_logger(__name__)

Outcome = Literal["sent", "skipped", "done", "busy", "failed", "given_up", "later"]


@dataclass
class NotifierDeps:
    """Everything the handlers need, built by `bootstrap.build`."""

    notifications: NotificationLog
    activity: ActivityLog
    peers: PeerReader
    mailer: Mailer
    renderer: Renderer
    zones: AccountZones
    clock: Clock
    sender: str
    daily_hour: int
    # Client webhooks (`batch.daily_summary` is queued where the daily email is due).
    webhooks: WebhookDeps | None = None


async def handle_batch_event(event: BatchEventV1, deps: NotifierDeps) -> None:
    """A finished batch gets its final email, once; `finished` and `credit_paused` are
    queued for the account's webhooks first (idempotent, so a retry of this handler after
    a failed email queues nothing more)."""
    if deps.webhooks is not None:
        await on_batch_event(event, deps.webhooks, deps.peers)
    if event.kind != "finished":
        return
    try:
        await deliver(Notification.final(event.account_id, event.batch_id), deps)
    except PeerNotFound as exc:
        raise PoisonEvent(f"no final email possible: {exc}") from exc


async def handle_credit_event(event: CreditEventV1, deps: NotifierDeps) -> None:
    """An `exhausted` account gets one "out of credit" email per exhaustion (keyed by the
    event id, so a replay sends nothing); `restored` needs no email. `exhausted` is
    queued for the account's `credit.low` webhooks first."""
    if deps.webhooks is not None:
        await on_credit_event(event, deps.webhooks)
    if event.kind != "exhausted":
        return
    try:
        await deliver(Notification.out_of_credit(event.account_id, str(event.event_id)), deps)
    except PeerNotFound as exc:
        raise PoisonEvent(f"no out-of-credit email possible: {exc}") from exc


async def handle_verdict(event: LeadVerdictV1, deps: NotifierDeps) -> None:
    """Remember that the account had leads processed on that local date (its own time
    zone, from the gateway): that day's summary will be due once the day is over.

    Idempotent (one activity row per account and local date). A gateway that cannot
    answer raises `PeerError`, which the runner retries; an account the gateway does not
    know can never get a summary, so its verdicts are counted and left.
    """
    if not event.final:
        return
    try:
        tz = await deps.zones.zone(event.account_id)
    except PeerNotFound as exc:
        NOTIFICATIONS_SKIPPED.labels("daily", "unknown_account").inc()
        log.warning("verdict_of_unknown_account", account_id=event.account_id, error=str(exc))
        return
    day = domain.local_day(event.occurred_at, tz)
    await deps.activity.record(event.account_id, day, tz.key, deps.clock.now())


async def deliver(note: Notification, deps: NotifierDeps) -> Outcome:
    """Send one notification unless it was sent already; record what happened.

    Raises `PeerNotFound` / `PeerError` if the peers cannot say what to send (nothing
    is claimed then). A failed send is recorded and retried later by the daily loop.
    """
    with structlog.contextvars.bound_contextvars(notification=note.key, account_id=note.account_id):
        if await deps.notifications.state(note) in ("sent", "skipped"):
            NOTIFICATIONS_SKIPPED.labels(note.kind, "already_sent").inc()
            return "done"
        email = await _compose(note, deps)
        now = deps.clock.now()
        action = await deps.notifications.claim(note, now)
        if action not in ("claim", "retake"):
            NOTIFICATIONS_SKIPPED.labels(note.kind, action).inc()
            log.info("notification_not_claimed", action=action)
            return cast(Outcome, action)
        if email is None:
            await deps.notifications.mark_skipped(note, now, "nothing processed")
            NOTIFICATIONS_SKIPPED.labels(note.kind, "empty").inc()
            return "skipped"
        try:
            await deps.mailer.send(email.to_message(deps.sender, now))
        except Exception as exc:  # recorded and retried by the loop; never a silent skip
            await deps.notifications.mark_failed(note, deps.clock.now(), repr(exc))
            SEND_FAILURES.labels(note.kind).inc()
            log.error("email_send_failed", error=repr(exc))
            return "failed"
        await deps.notifications.mark_sent(note, deps.clock.now(), email.to)
        EMAILS_SENT.labels(note.kind).inc()
        log.info("email_sent", kind=note.kind, to=email.to)
        return "sent"


async def _compose(note: Notification, deps: NotifierDeps) -> Email | None:
    """The email for a notification; None for a daily summary of a day with nothing processed."""
    account = await deps.peers.account(note.account_id)
    if note.kind == "final":
        assert note.batch_id is not None
        batch = await deps.peers.batch(note.account_id, note.batch_id)
        return deps.renderer.final(account, batch)
    if note.kind == "credit":
        assert note.event_id is not None
        return deps.renderer.out_of_credit(account, note.event_id)
    assert note.day is not None
    tz = deps.zones.remember(account).key
    day_batches = await deps.peers.daily(note.account_id, note.day, tz)
    batches = [b for b in day_batches if b.get("processed")]
    return deps.renderer.daily(account, note.day, tz, batches) if batches else None


async def run_daily(deps: NotifierDeps) -> None:
    """One pass: send the daily summaries that are due, then retry failed or abandoned sends."""
    started = time.perf_counter()
    try:
        now = deps.clock.now()
        up_to = domain.last_possible_ended_day(now)
        for account_id, day in await deps.activity.pending(up_to=up_to):
            try:
                tz = await deps.zones.zone(account_id)
                if not domain.is_daily_due(day, tz, deps.daily_hour, now):
                    continue
                if deps.webhooks is not None:
                    await on_daily_due(account_id, day, tz.key, deps.webhooks, deps.peers)
                await deliver(Notification.daily(account_id, day), deps)
            except PeerNotFound as exc:
                log.warning("daily_summary_impossible", account_id=account_id, error=str(exc))
            except PeerError as exc:
                PEER_FAILURES.labels("gateway_or_ingest").inc()
                log.warning("daily_summary_postponed", account_id=account_id, error=str(exc))
                continue
            # From here the notification log owns the summary (and its retries).
            await deps.activity.mark_done(account_id, day, now)
        for note in await deps.notifications.to_retry(now):
            try:
                await deliver(note, deps)
            except PeerNotFound as exc:
                await deps.notifications.abandon(note, now, str(exc))
                log.warning("notification_abandoned", notification=note.key, error=str(exc))
            except PeerError as exc:
                log.warning("notification_retry_postponed", notification=note.key, error=str(exc))
    finally:
        DAILY_RUN_SECONDS.observe(time.perf_counter() - started)
