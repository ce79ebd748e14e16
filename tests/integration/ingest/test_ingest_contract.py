"""Contract: every example message of ingest's input topics goes through its handlers.

Decoded as the consumer runner decodes (`ConsumerSpec.decode`) and handled by the
handler of each of ingest's `ConsumerSpec`s, on the real store and broker, for
the batch and lead the examples name (imported first, as a client would).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.ingest.support import create_importing_batch

from lc_common.clock import ManualClock
from lc_common.events import BILLING_EVENTS, LEAD_VERDICTS, LEADS_ACCEPTED, LEADS_DISPATCHED
from lc_common.events.contract import examples
from lc_common.kafka import Publisher, ensure_topics
from lc_common.store import connect_mongo, database
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.bootstrap import consumer_specs
from lc_ingest.config import IngestSettings
from lc_ingest.importer import Importer
from lc_ingest.lifecycle import BatchLifecycle

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_every_example_of_every_input_topic_is_handled(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    settings = IngestSettings(upload_dir=tmp_path)
    accepted = json.loads(examples(LEADS_ACCEPTED)[0].value)
    batch_id, account_id, lead_id = (
        accepted["batch_id"],
        accepted["account_id"],
        accepted["lead_id"],
    )
    row = int(lead_id.rpartition(":")[2])
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    client = connect_mongo(settings)
    publisher = Publisher(settings)
    await ensure_topics(settings, [LEADS_ACCEPTED, LEADS_DISPATCHED, LEAD_VERDICTS, BILLING_EVENTS])
    await publisher.start()
    try:
        store = MongoIngestStore(database(client, settings))
        await store.ensure_indexes()
        lifecycle = BatchLifecycle(store, clock)
        csv = tmp_path / "leads.csv"
        csv.write_text("phone\n" + "".join(f"+6141234{n:04d}\n" for n in range(row + 5)))
        await create_importing_batch(
            store,
            csv,
            clock.now(),
            batch_id=batch_id,
            account_id=account_id,
            name="contract",
            reference="",
        )
        await Importer(store, publisher, lifecycle, clock, settings.import_chunk_rows).run(
            batch_id, csv
        )
        lead = await store.get_lead(lead_id)
        assert lead is not None and lead.state == "pending"

        specs = {spec.topic.name: spec for spec in consumer_specs(store, lifecycle)}
        assert set(specs) == {LEADS_DISPATCHED.name, LEAD_VERDICTS.name, BILLING_EVENTS.name}
        statuses = []
        for topic in (LEADS_DISPATCHED, LEAD_VERDICTS, BILLING_EVENTS):
            spec = specs[topic.name]
            for example in examples(topic):
                await spec.handler(spec.decode(example.value))
                batch = await store.get_batch(batch_id)
                assert batch is not None
                statuses.append(batch.status)
            if topic is LEADS_DISPATCHED:
                # Dispatched: the lead is being tested until its verdict.
                lead = await store.get_lead(lead_id)
                assert lead is not None and lead.state == "testing"

        # The first verdict example (connected, final) decides the lead; the others
        # are for a final lead and change nothing.
        lead = await store.get_lead(lead_id)
        assert lead is not None
        assert (lead.state, lead.attempts) == ("connected", 1)
        batch = await store.get_batch(batch_id)
        assert batch is not None and batch.counters.connected == 1
        # Credit ran out (the batch waits), then came back.
        assert statuses[-2:] == ["paused_no_credit", "running"]
    finally:
        await publisher.stop()
        await client.close()
