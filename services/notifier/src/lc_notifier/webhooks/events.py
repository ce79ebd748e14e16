"""From what the notifier hears to webhook deliveries: one per subscribed endpoint,
keyed so that a replayed event adds nothing (store.enqueue)."""

from __future__ import annotations

from datetime import date

import structlog

from lc_common.events import BatchEventV1, CreditEventV1
from lc_notifier.adapters.peers import PeerNotFound
from lc_notifier.metrics import WEBHOOK_EVENTS
from lc_notifier.ports import IngestReader
from lc_notifier.webhooks import domain
from lc_notifier.webhooks.domain import EventType, WebhookEvent
from lc_notifier.webhooks.sender import WebhookDeps

log = structlog.get_logger(__name__)

BATCH_KINDS: dict[str, EventType] = {
    "finished": "batch.finished",
    "credit_paused": "batch.paused_no_credit",
}


async def enqueue(event: WebhookEvent, deps: WebhookDeps) -> int:
    """A delivery of `event` for every endpoint of its account subscribed to its type;
    how many were new."""
    added = 0
    for endpoint in await deps.store.subscribers(event.account_id, event.type):
        if await deps.store.enqueue(endpoint, event, deps.clock.now()):
            WEBHOOK_EVENTS.labels(event.type).inc()
            added += 1
            log.info(
                "webhook_queued",
                type=event.type,
                account_id=event.account_id,
                endpoint_id=endpoint.id,
                webhook_id=domain.webhook_id(endpoint.id, event.key),
            )
    return added


async def on_batch_event(event: BatchEventV1, deps: WebhookDeps, ingest: IngestReader) -> None:
    """`finished` → `batch.finished` with the batch's final counters (ingest's read; a
    batch ingest no longer knows goes out with what the event says), `credit_paused` →
    `batch.paused_no_credit`. Ingest down raises `PeerError`: the runner retries."""
    event_type = BATCH_KINDS.get(event.kind)
    if event_type is None or not await deps.store.subscribers(event.account_id, event_type):
        return
    batch = None
    if event.kind == "finished":
        try:
            batch = await ingest.batch(event.account_id, event.batch_id)
        except PeerNotFound:
            batch = None
    webhook = domain.batch_event(event, batch)
    if webhook is not None:
        await enqueue(webhook, deps)


async def on_credit_event(event: CreditEventV1, deps: WebhookDeps) -> None:
    """`exhausted` → `credit.low`."""
    webhook = domain.credit_event(event)
    if webhook is not None:
        await enqueue(webhook, deps)


async def on_daily_due(
    account_id: str, day: date, tz: str, deps: WebhookDeps, ingest: IngestReader
) -> None:
    """The account's local date `day` is over: `batch.daily_summary` with the leads
    processed per batch that day, if any were and anyone subscribed."""
    if not await deps.store.subscribers(account_id, "batch.daily_summary"):
        return
    rows = [b for b in await ingest.daily(account_id, day, tz) if b.get("processed")]
    if rows:
        event = domain.daily_summary_event(account_id, day.isoformat(), tz, rows, deps.clock.now())
        await enqueue(event, deps)
