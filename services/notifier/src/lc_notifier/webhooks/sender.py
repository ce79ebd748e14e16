"""The sender: takes due deliveries, signs and POSTs them, records each outcome.

Each delivery is taken with a lease (store.claim), so two notifier replicas never
attempt it at once; a sender that dies mid-attempt leaves a lease that runs out, and
the delivery is attempted again (at-least-once, with the same `webhook-id`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import httpx
import structlog

from lc_common.clock import Clock
from lc_notifier.metrics import WEBHOOK_ATTEMPT_SECONDS, WEBHOOK_DELIVERIES
from lc_notifier.webhooks import domain
from lc_notifier.webhooks.store import Delivery, Endpoint, WebhookStore
from lc_notifier.webhooks.targets import TargetRefused, checked_target

log = structlog.get_logger(__name__)

Outcome = Literal["delivered", "retry", "failed", "dropped", "lost"]
USER_AGENT = "LeadCleanser-Webhooks/1"


@dataclass
class WebhookDeps:
    """What registering, queueing and sending webhooks need; built by `bootstrap.build`."""

    store: WebhookStore
    http: httpx.AsyncClient
    clock: Clock
    allow_private: bool
    schedule: Sequence[timedelta] = domain.DEFAULT_SCHEDULE
    give_up_after: timedelta = domain.DEFAULT_GIVE_UP_AFTER
    lease: timedelta = timedelta(seconds=60)
    concurrency: int = 8
    max_endpoints: int = 20


def http_client(timeout: float) -> httpx.AsyncClient:
    """The client attempts go through: no redirects (a redirect could lead anywhere, the
    inside included), no proxies from the environment, `timeout` for the whole exchange."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


async def send_due(deps: WebhookDeps) -> int:
    """Attempt due deliveries, up to `concurrency` at a time, until none is due; how many."""
    done = 0
    while True:
        lease_us = deps.lease // timedelta(microseconds=1)
        taken: list[Delivery] = []
        for _ in range(deps.concurrency):
            delivery = await deps.store.claim(deps.clock.now(), lease_us, uuid.uuid4().hex)
            if delivery is None:
                break
            taken.append(delivery)
        if not taken:
            return done
        await asyncio.gather(*(attempt(d, deps) for d in taken))
        done += len(taken)


async def sender_loop(deps: WebhookDeps, interval: float) -> None:
    """Every `interval` seconds, attempt what is due."""
    while True:
        await send_due(deps)
        await asyncio.sleep(interval)


async def attempt(delivery: Delivery, deps: WebhookDeps) -> Outcome:
    """One attempt of a taken delivery, its outcome recorded: delivered on a 2xx; else
    tried again on the back-off schedule, or failed once a day has passed."""
    with structlog.contextvars.bound_contextvars(
        webhook_id=delivery.id, endpoint_id=delivery.endpoint_id, account_id=delivery.account_id
    ):
        endpoint = await deps.store.endpoint(delivery.account_id, delivery.endpoint_id)
        if endpoint is None:
            await deps.store.record(
                delivery, deps.clock.now(), "failed", status_code=None, error="endpoint deleted"
            )
            return _count("dropped", delivery, None, "endpoint deleted")
        started = time.perf_counter()
        status, error = await _post(endpoint, delivery, deps)
        WEBHOOK_ATTEMPT_SECONDS.observe(time.perf_counter() - started)
        now = deps.clock.now()
        if error is None:
            recorded = await deps.store.record(
                delivery, now, "delivered", status_code=status, error=None
            )
            return _count("delivered" if recorded else "lost", delivery, status, None)
        first = domain.from_micros(delivery.first_attempt_us) if delivery.first_attempt_us else now
        next_at = domain.next_attempt_at(
            delivery.attempts + 1, first, now, deps.schedule, deps.give_up_after
        )
        state: Literal["pending", "failed"] = "failed" if next_at is None else "pending"
        recorded = await deps.store.record(
            delivery, now, state, status_code=status, error=error, next_at=next_at
        )
        outcome: Outcome = "retry" if state == "pending" else "failed"
        return _count(outcome if recorded else "lost", delivery, status, error)


def _count(outcome: Outcome, delivery: Delivery, status: int | None, error: str | None) -> Outcome:
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    level = log.info if outcome == "delivered" else log.warning
    level(
        "webhook_attempt",
        outcome=outcome,
        type=delivery.type,
        attempt=delivery.attempts + 1,
        status_code=status,
        error=error,
    )
    return outcome


async def _post(
    endpoint: Endpoint, delivery: Delivery, deps: WebhookDeps
) -> tuple[int | None, str | None]:
    """POST the delivery to the endpoint's checked address: (status code, error or None)."""
    try:
        target = await checked_target(endpoint.url, allow_private=deps.allow_private)
    except TargetRefused as exc:
        return None, f"target refused: {exc}"
    headers = domain.signed_headers(endpoint.secret, delivery.id, deps.clock.now(), delivery.body)
    headers.update({"host": target.host_header, "user-agent": USER_AGENT})
    extensions = {"sni_hostname": target.server_name} if target.url.startswith("https:") else {}
    try:
        # Streamed and never read: a receiver's answer body is not ours to hold.
        async with deps.http.stream(
            "POST",
            target.url,
            content=delivery.body.encode(),
            headers=headers,
            extensions=extensions,
        ) as response:
            status = response.status_code
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return (status, None) if 200 <= status < 300 else (status, f"HTTP {status}")
