"""Contract: every example message of the scheduler's input topics goes through its handlers.

Decoded as the consumer runner decodes (`ConsumerSpec.decode`) and handed to the
scheduler as its runner does (`Harness.deliver`: the bulk handler of a `Bulk`
spec, else the spec's handler), on the in-memory adapters, in the order a lead
lives: accepted, retried, judged, its batch changing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from scheduler_fakes import Harness

from lc_common.clock import ManualClock
from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
)
from lc_common.events.contract import examples

# A Monday morning in Sydney, inside the calling window.
NOW = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
LIFE = (LEADS_ACCEPTED, PROBE_RETRIES, LEAD_VERDICTS, BATCH_EVENTS, BILLING_EVENTS)


async def test_every_example_of_every_input_topic_is_handled() -> None:
    harness = await Harness(ManualClock(NOW)).start()
    specs = {spec.topic.name: spec for spec in harness.scheduler.consumers}
    assert set(specs) == {topic.name for topic in LIFE}
    [accepted, *_] = examples(LEADS_ACCEPTED)
    assert accepted.key is not None
    lead_id = json.loads(accepted.value)["lead_id"]
    states = {}
    for topic in LIFE:
        spec = specs[topic.name]
        for example in examples(topic):
            await harness.deliver(topic, spec.decode(example.value))
        entry = harness.store.entries_by_id.get(lead_id)
        states[topic.name] = entry.state if entry else None
    # The examples tell one lead's story: accepted, retried, finally judged, its batch
    # deleted; then its account's credit changes.
    assert states == {
        "leads.accepted": "queued",
        "probe.retries": "queued",
        "lead.verdicts": "final",
        "batch.events": None,
        "billing.events": None,
    }
