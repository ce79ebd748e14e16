"""The one place where billing's real adapters are built and wired."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from pymongo import AsyncMongoClient

from lc_billing.adapters.ingest import IngestClient
from lc_billing.adapters.ledger import MongoLedger
from lc_billing.adapters.payments import StripeCheckout
from lc_billing.adapters.reservations import MongoReservations
from lc_billing.adapters.store import BillingStore, StoreWithoutTransactions, supports_transactions
from lc_billing.config import BillingSettings
from lc_billing.handlers import BillingDeps, Pricing, handle_verdict
from lc_billing.reconciler import run_reconciler
from lc_common.clock import Clock, SystemClock
from lc_common.consumer import ConsumerSpec
from lc_common.events import BILLING_EVENTS, LEAD_VERDICTS, LeadVerdictV1, Topic
from lc_common.kafka import Publisher, ensure_topics, keep_topics
from lc_common.outbox import OutboxRelay
from lc_common.service import Workers
from lc_common.store import Document, connect_mongo, database

TOPICS: tuple[Topic, ...] = (LEAD_VERDICTS, BILLING_EVENTS)


@dataclass
class BillingRuntime:
    """The wired service: dependencies for handlers and routes, its workers, what to close."""

    settings: BillingSettings
    deps: BillingDeps
    mongo: AsyncMongoClient[Document]
    publisher: Publisher
    provider: StripeCheckout
    ingest: IngestClient
    reservations: MongoReservations
    relay: OutboxRelay
    consumers: list[ConsumerSpec[LeadVerdictV1]] = field(default_factory=list)

    def start_workers(self, workers: Workers) -> None:
        """The outbox relay of credit events and the reconciler of old reservations."""
        workers.start("billing-outbox", self.relay.run())
        workers.start("billing-topics", keep_topics(self.settings, TOPICS))
        workers.start(
            "billing-reconciler",
            run_reconciler(
                self.deps,
                self.reservations,
                self.ingest,
                self.settings.billing_reconcile_interval_seconds,
            ),
        )

    async def close(self) -> None:
        await self.ingest.close()
        await self.provider.close()
        await self.publisher.stop()
        await self.mongo.close()


async def build(settings: BillingSettings, clock: Clock | None = None) -> BillingRuntime:
    """Connect to the store, broker and ingest, build the Stripe client; return the wired service.

    Raises `StoreWithoutTransactions` on a store that cannot commit a multi-document
    transaction: reservations could then overdraw an account.
    """
    mongo = connect_mongo(settings)
    db = database(mongo, settings)
    if not await supports_transactions(mongo, db):
        await mongo.close()
        raise StoreWithoutTransactions("billing needs a store with transactions (a replica set)")
    store = BillingStore(mongo, db)
    await store.ensure_indexes()
    await ensure_topics(settings, TOPICS)
    publisher = Publisher(settings)
    await publisher.start()
    provider = StripeCheckout(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        timeout=settings.provider_timeout_seconds,
    )
    ingest = IngestClient(settings.ingest_url, settings.internal_token.get_secret_value())
    reservations = MongoReservations(
        store, timedelta(seconds=settings.billing_reconcile_after_seconds)
    )
    relay = OutboxRelay(
        store.accounts, publisher, BILLING_EVENTS, scan_interval=settings.outbox_scan_seconds
    )
    deps = BillingDeps(
        ledger=MongoLedger(store),
        reservations=reservations,
        provider=provider,
        relay=relay,
        clock=clock or SystemClock(),
        pricing=Pricing(settings.unit_price_cents, settings.currency),
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
    )
    consumers = [
        ConsumerSpec[LeadVerdictV1].of("billing", LEAD_VERDICTS, partial(handle_verdict, deps=deps))
    ]
    return BillingRuntime(
        settings, deps, mongo, publisher, provider, ingest, reservations, relay, consumers
    )
