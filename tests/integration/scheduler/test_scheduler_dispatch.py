"""Leads accepted become probe requests on the right trunk's topic, within its bound."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from scheduler_helpers import TopicReader, lead, publisher, read, running
from tests.support import until

from lc_common.events import LEADS_ACCEPTED, ProbeRequestV1

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_accepted_leads_are_dispatched_to_a_trunk_that_carries_them(
    scheduler_settings: Any, kafka_bootstrap: str
) -> None:
    settings = scheduler_settings()
    sydney = [lead("bat_a", i, f"+6129234{i:04d}") for i in range(3)]
    mobiles = [lead("bat_a", 100 + i, f"+6141234{i:04d}") for i in range(3)]
    topics = [settings.topic("probe.requests.alpha"), settings.topic("probe.requests.beta")]
    async with running(settings) as app, TopicReader(kafka_bootstrap, topics) as reader:
        async with publisher(settings) as pub:
            # Sent twice: the second copy must change nothing.
            for _ in range(2):
                await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in sydney + mobiles])
        await until(lambda: len(reader.probes()) >= 6, what="six probe requests")
        probes = reader.probes()
        by_lead: dict[str, tuple[str, ProbeRequestV1]] = {p.lead_id: (t, p) for t, p in probes}
        assert len(probes) == 6, probes
        for ev in mobiles:
            topic, probe = by_lead[ev.lead_id]
            # alpha carries only +612: a mobile can only go to beta.
            assert probe.trunk == "beta" and topic.endswith("probe.requests.beta")
        for ev in sydney + mobiles:
            _, probe = by_lead[ev.lead_id]
            assert probe.attempt == 1 and probe.e164 == ev.e164
            assert probe.batch_id == "bat_a" and probe.account_id == "acc_test"
        assert len({p.probe_id for _, p in probes}) == 6
        # Bounds: alpha 2 x 2 = 4, beta 3 x 2 = 6; nothing answers, so nothing more goes out.
        counts = Counter(p.trunk for _, p in probes)
        assert counts["alpha"] <= 4 and counts["beta"] <= 6
        schedule = app.state.scheduler.schedule
        outstanding = await read(
            schedule, lambda tx: tx.outstanding("alpha") | tx.outstanding("beta")
        )
        assert outstanding == set(by_lead)
