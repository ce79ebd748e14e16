"""Garbage on each input topic goes to its dead-letter topic; the consumer goes on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scheduler_helpers import TopicReader, eventually, lead, publisher, running

from lc_common.events import BATCH_EVENTS, LEAD_VERDICTS, LEADS_ACCEPTED, PROBE_RETRIES

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

INPUTS = (LEADS_ACCEPTED, PROBE_RETRIES, LEAD_VERDICTS, BATCH_EVENTS)


async def test_poison_events_are_dead_lettered_and_consumption_goes_on(
    scheduler_settings: Any, kafka_bootstrap: str
) -> None:
    settings = scheduler_settings()
    dlqs = [settings.topic(t.dlq) for t in INPUTS]
    requests = [settings.topic("probe.requests.alpha"), settings.topic("probe.requests.beta")]
    async with (
        running(settings) as app,
        publisher(settings) as pub,
        TopicReader(kafka_bootstrap, dlqs + requests) as reader,
    ):
        for topic in INPUTS:
            await pub.producer.send_and_wait(
                settings.topic(topic.name), b"\x00\xffnot json", key=b"garbage"
            )
        # Well-formed but impossible: a retry with attempt 0.
        impossible = {
            "account_id": "a",
            "batch_id": "b",
            "lead_id": "b:1",
            "e164": "+61412345678",
            "attempt": 0,
            "reason": "indeterminate",
            "not_before": "2025-01-01T00:00:00Z",
        }
        await pub.producer.send_and_wait(
            settings.topic(PROBE_RETRIES.name), json.dumps(impossible).encode(), key=b"b:1"
        )
        after = lead("bat_ok", 1, "+61412345678")
        await pub.publish(LEADS_ACCEPTED, after, key=after.lead_id)

        def dead(topic: str) -> list[bytes]:
            return [v for t, v in reader.messages if t == topic]

        await eventually(
            lambda: all(dead(d) for d in dlqs) and len(dead(dlqs[1])) == 2,
            60,
            "every poison event dead-lettered",
        )
        await eventually(lambda: len(reader.probes()) == 1, 60, "the next lead dispatched")
        assert reader.probes()[0][1].lead_id == after.lead_id
        assert all(b"\x00\xffnot json" in dead(d) for d in dlqs)
        assert app.state.workers.alive
