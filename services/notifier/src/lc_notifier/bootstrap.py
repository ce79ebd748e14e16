"""The one place where the notifier's real adapters are built and wired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from pymongo import AsyncMongoClient

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec
from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    BatchEventV1,
    CreditEventV1,
    LeadVerdictV1,
    Topic,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_common.store import Document, connect_mongo, database
from lc_notifier.adapters.peers import Peers
from lc_notifier.adapters.smtp import SmtpMailer
from lc_notifier.adapters.store import ActivityLog, NotificationLog
from lc_notifier.config import NotifierSettings
from lc_notifier.emails import Renderer
from lc_notifier.handlers import (
    NotifierDeps,
    handle_batch_event,
    handle_credit_event,
    handle_verdict,
)
from lc_notifier.webhooks.sender import WebhookDeps, http_client
from lc_notifier.webhooks.store import WebhookStore
from lc_notifier.zones import AccountZones

TOPICS: tuple[Topic, ...] = (BATCH_EVENTS, LEAD_VERDICTS, BILLING_EVENTS)


@dataclass
class NotifierRuntime:
    """The wired service: dependencies, consumers and what to close."""

    deps: NotifierDeps
    mongo: AsyncMongoClient[Document]
    publisher: Publisher
    peers: Peers
    consumers: list[ConsumerSpec[Any]]
    webhooks: WebhookDeps

    async def close(self) -> None:
        await self.webhooks.http.aclose()
        await self.peers.close()
        await self.publisher.stop()
        await self.mongo.close()


async def build(settings: NotifierSettings, clock: Clock | None = None) -> NotifierRuntime:
    """Connect to the store, broker and peers; return the wired service."""
    mongo = connect_mongo(settings)
    db = database(mongo, settings)
    notifications = NotificationLog(
        db, timedelta(minutes=settings.claim_stale_minutes), settings.max_send_attempts
    )
    activity = ActivityLog(db)
    await notifications.ensure_indexes()
    await activity.ensure_indexes()
    webhook_store = WebhookStore(db)
    await webhook_store.ensure_indexes()
    await ensure_topics(settings, TOPICS)
    # The runner's dead-lettering sends through a publisher; the notifier publishes nothing else.
    publisher = Publisher(settings)
    await publisher.start()
    peers = Peers(
        settings.gateway_url,
        settings.ingest_url,
        settings.internal_token.get_secret_value(),
        settings.peer_timeout_seconds,
    )
    clock = clock or SystemClock()
    webhooks = WebhookDeps(
        store=webhook_store,
        http=http_client(settings.webhooks_timeout_seconds),
        clock=clock,
        allow_private=settings.webhooks_allow_private_targets,
        schedule=settings.webhooks_retry_schedule,
        give_up_after=settings.webhooks_give_up_after,
        lease=timedelta(seconds=settings.webhooks_lease_seconds),
        concurrency=settings.webhooks_concurrency,
        max_endpoints=settings.webhooks_max_per_account,
    )
    deps = NotifierDeps(
        notifications=notifications,
        activity=activity,
        peers=peers,
        mailer=SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        ),
        renderer=Renderer(settings.public_url),
        zones=AccountZones(peers.account, settings.zone_cache_seconds),
        clock=clock,
        sender=settings.mail_from,
        daily_hour=settings.daily_hour,
        webhooks=webhooks,
    )
    consumers: list[ConsumerSpec[Any]] = [
        ConsumerSpec[BatchEventV1].of(
            "notifier", BATCH_EVENTS, partial(handle_batch_event, deps=deps)
        ),
        ConsumerSpec[LeadVerdictV1].of(
            "notifier", LEAD_VERDICTS, partial(handle_verdict, deps=deps)
        ),
        ConsumerSpec[CreditEventV1].of(
            "notifier", BILLING_EVENTS, partial(handle_credit_event, deps=deps)
        ),
    ]
    return NotifierRuntime(deps, mongo, publisher, peers, consumers, webhooks)
