"""The one place where billing's real adapters are built and wired."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from pymongo import AsyncMongoClient

from lc_billing.adapters.ledger import MongoLedger, supports_transactions
from lc_billing.adapters.payments import PaymentProvider
from lc_billing.config import BillingSettings
from lc_billing.handlers import BillingDeps, Pricing, handle_verdict
from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec
from lc_common.events import BILLING_EVENTS, LEAD_VERDICTS, CreditEventV1, LeadVerdictV1, Topic
from lc_common.kafka import Publisher, ensure_topics
from lc_common.store import Document, connect_mongo, database

CONSUMER_GROUP = "billing"
TOPICS: tuple[Topic, ...] = (LEAD_VERDICTS, BILLING_EVENTS)


class KafkaCreditEvents:
    """Credit events on `billing.events`, keyed by account so they stay in order."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def publish(self, event: CreditEventV1) -> None:
        await self._publisher.publish(BILLING_EVENTS, event, key=event.account_id)


@dataclass
class BillingRuntime:
    """The wired service: dependencies for handlers and routes, and what to close."""

    deps: BillingDeps
    mongo: AsyncMongoClient[Document]
    publisher: Publisher
    provider: PaymentProvider
    consumers: list[ConsumerSpec[LeadVerdictV1]] = field(default_factory=list)

    async def close(self) -> None:
        await self.provider.close()
        await self.publisher.stop()
        await self.mongo.close()


async def bootstrap(settings: BillingSettings, clock: Clock | None = None) -> BillingRuntime:
    """Connect to the store, broker and provider; return the wired service."""
    mongo = connect_mongo(settings)
    db = database(mongo, settings)
    ledger = MongoLedger(mongo, db, transactions=await supports_transactions(mongo, db))
    await ledger.ensure_indexes()
    await ensure_topics(settings, TOPICS)
    publisher = Publisher(settings)
    await publisher.start()
    provider = PaymentProvider(
        settings.payment_provider_url,
        settings.payment_webhook_url,
        timeout=settings.provider_timeout_seconds,
    )
    deps = BillingDeps(
        ledger=ledger,
        provider=provider,
        credit_events=KafkaCreditEvents(publisher),
        clock=clock or SystemClock(),
        pricing=Pricing(settings.unit_price_cents, settings.currency),
        webhook_secret=settings.payment_webhook_secret.get_secret_value(),
    )
    consumers = [
        ConsumerSpec[LeadVerdictV1](
            topic=LEAD_VERDICTS, group=CONSUMER_GROUP, handler=partial(handle_verdict, deps=deps)
        )
    ]
    return BillingRuntime(deps, mongo, publisher, provider, consumers)
