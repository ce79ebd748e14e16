"""The generic outbox relay on the real store and broker: events written with their state
and never relayed (the writer crashed) are published in order by a new relay, then pulled."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from tests.integration.billing.support import read_topic
from tests.support import until

from lc_common.events import BILLING_EVENTS, CreditEventV1
from lc_common.kafka import Publisher, ensure_topics
from lc_common.outbox import OutboxRelay, outbox_entry
from lc_common.settings import ServiceSettings
from lc_common.store import connect_mongo, database

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(90)]


async def test_an_unrelayed_event_is_published_by_a_new_relay_then_pulled(
    service_env: dict[str, str],
) -> None:
    settings = ServiceSettings()
    await ensure_topics(settings, [BILLING_EVENTS])
    mongo = connect_mongo(settings)
    docs = database(mongo, settings)["things"]
    account = f"acc_{uuid.uuid4().hex[:8]}"
    events = [
        CreditEventV1(account_id=account, kind=kind, balance=0)
        for kind in ("exhausted", "restored")
    ]
    # The state write of a process that died before relaying.
    await docs.insert_one(
        {"_id": account, "state": "x", "outbox": [outbox_entry(e, account) for e in events]}
    )
    await docs.insert_one({"_id": "quiet", "outbox": []})
    publisher = Publisher(settings)
    await publisher.start()
    relay = OutboxRelay(docs, publisher, BILLING_EVENTS, scan_interval=0.2)
    task = asyncio.create_task(relay.run())
    try:
        values = await read_topic(settings, BILLING_EVENTS.name, lambda v: len(v) >= 2)
        got = [CreditEventV1.model_validate_json(v) for v in values]
        assert [e.event_id for e in got] == [e.event_id for e in events]

        async def pulled() -> bool:
            doc = await docs.find_one({"_id": account})
            return doc is not None and doc["outbox"] == [] and doc["state"] == "x"

        await until(pulled, what="the relayed entries pulled")
        assert await relay.relay_once() == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await publisher.stop()
        await mongo.close()
