"""A poison event on each input topic: parked on `<topic>.dlq`, counted, logged; the next
good event is still handled.

The event contracts refuse impossible events (a number that is no number, attempt
0, no batch id) at decode, so both the garbage and the impossible event are
parked as `undecodable`; no handler of the scheduler sees them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import structlog.testing
from prometheus_client import REGISTRY
from scheduler_helpers import attempt, final_verdict, lead, paused, publisher, read, running
from tests.support import UNDECODABLE, read_dead_letters, until

from lc_common.events import (
    BATCH_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
    BatchEventV1,
    ProbeRequestV1,
    ProbeRetryV1,
    Topic,
)
from lc_common.kafka import Publisher
from lc_common.settings import ServiceSettings

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

LEAD = {"account_id": "acc_1", "batch_id": "bat_x", "lead_id": "bat_x:000000001"}
# Well-formed, but impossible: a number that is no number (or carries SIP headers),
# attempt 0, no batch id.
IMPOSSIBLE: dict[str, dict[str, Any]] = {
    LEADS_ACCEPTED.name: {**LEAD, "e164": "+61 call me maybe"},
    # The number a user injected on the landed main: a SIP URI and a header after CR/LF.
    PROBE_RETRIES.name: {
        **LEAD,
        "e164": "+61412345670@evil.example\r\nX-Injected: 1",
        "attempt": 2,
        "reason": "indeterminate",
        "not_before": "2025-01-01T00:00:00Z",
    },
    LEAD_VERDICTS.name: {
        **LEAD,
        "probe_id": "p",
        "attempt": 0,
        "status": "connected",
        "final": True,
        "detail": "SIP 180 Ringing",
        "confidence": 90,
        "evidence": {"trunk": "beta", "codes": [180], "tested_at": "2025-01-01T00:00:00Z"},
    },
    BATCH_EVENTS.name: {"account_id": "acc_1", "batch_id": "", "kind": "paused"},
}


async def test_every_input_topic_parks_poison_and_goes_on(scheduler_settings: Any) -> None:
    settings = scheduler_settings()
    async with running(settings) as app, publisher(settings) as pub:
        schedule = app.state.scheduler.schedule
        first = lead("bat_ok", 1, "+61412345678")
        probe = ProbeRequestV1(
            account_id=first.account_id,
            batch_id=first.batch_id,
            lead_id=first.lead_id,
            probe_id="p1",
            e164=first.e164,
            attempt=1,
            trunk="beta",
        )
        retry = ProbeRetryV1(
            account_id=first.account_id,
            batch_id=first.batch_id,
            lead_id=first.lead_id,
            e164=first.e164,
            attempt=2,
            reason="indeterminate",
            not_before=first.occurred_at,
        )
        pause = BatchEventV1(account_id="acc_1", batch_id="bat_ok", kind="paused")
        steps: list[tuple[Topic, Any, Any]] = [
            (LEADS_ACCEPTED, first, lambda: read(schedule, lambda tx: tx.entry(first.lead_id))),
            (
                PROBE_RETRIES,
                retry,
                lambda: read(schedule, lambda tx: attempt(tx, first.lead_id) == 2),
            ),
            (
                LEAD_VERDICTS,
                final_verdict(probe.model_copy(update={"attempt": 2})),
                lambda: read(schedule, lambda tx: tx.entry(first.lead_id) is None),
            ),
            (BATCH_EVENTS, pause, lambda: read(schedule, lambda tx: paused(tx, "bat_ok"))),
        ]
        for topic, good, handled in steps:
            await parked_at_decode_and_the_next_event_handled(
                settings, pub, topic, IMPOSSIBLE[topic.name], good, handled
            )
        assert app.state.workers.alive


async def parked_at_decode_and_the_next_event_handled(
    settings: ServiceSettings,
    pub: Publisher,
    topic: Topic,
    impossible: dict[str, Any],
    good: Any,
    handled: Callable[[], bool],
) -> None:
    """Garbage and an impossible event parked as undecodable, counted, logged; then `good`."""
    name = topic.name
    labels = {"topic": name, "reason": "undecodable"}
    before = REGISTRY.get_sample_value("lc_events_dead_lettered_total", labels) or 0.0
    raw = json.dumps(impossible).encode()
    with structlog.testing.capture_logs() as logs:
        await pub.producer.send_and_wait(settings.topic(name), UNDECODABLE, key=b"garbage")
        await pub.producer.send_and_wait(settings.topic(name), raw, key=b"impossible")
        await pub.publish(topic, good, key=getattr(good, topic.key))
        parked = await read_dead_letters(settings, topic, 2, 90)
        await until(handled, 90, f"the good event after the poison on {name}")
    assert sorted(r.value for r in parked) == sorted([UNDECODABLE, raw])
    assert {dict(r.headers)["lc-dlq-reason"] for r in parked} == {b"undecodable"}
    after = REGISTRY.get_sample_value("lc_events_dead_lettered_total", labels) or 0.0
    assert after - before == 2
    logged = [e for e in logs if e.get("event") == "event_dead_lettered" and e["dlq"] == topic.dlq]
    assert [e["reason"] for e in logged] == ["undecodable", "undecodable"]
