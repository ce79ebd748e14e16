"""The broker loses its data: every open lead is re-driven from the database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from scheduler_helpers import (
    StandInProber,
    TopicReader,
    all_final,
    lead,
    publisher,
    read,
    running,
    stand_in_ingest,
)
from tests.support import until

from lc_common.events import LEADS_ACCEPTED, LeadAcceptedV1

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


def open_rows(leads: list[LeadAcceptedV1], state: str) -> list[dict[str, str]]:
    """The leads as ingest's open-leads page lists them."""
    return [
        {
            "lead_id": e.lead_id,
            "batch_id": e.batch_id,
            "account_id": e.account_id,
            "e164": e.e164,
            "state": state,
        }
        for e in leads
    ]


async def test_open_leads_are_redispatched_after_the_broker_lost_everything(
    scheduler_settings: Any, kafka_bootstrap: str
) -> None:
    # Before: 12 mobiles accepted; beta's bound (6) is out, 6 wait in the queue.
    before = scheduler_settings()
    known = [lead("bat_r", i, f"+614{i:08d}") for i in range(12)]
    async with running(before) as app, publisher(before) as pub:
        topic = before.topic("probe.requests.beta")
        async with TopicReader(kafka_bootstrap, [topic]) as reader:
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in known])
            await until(lambda: len(reader.probes()) == 6, 60, "six probes out")
        first = {p.lead_id: p for _, p in reader.probes()}
        assert len(await read(app.state.scheduler.schedule, lambda tx: tx.open_entries())) == 12

    # The broker comes back empty (a fresh topic prefix); the database is kept.
    # ingest still lists the 12 and 3 more whose `leads.accepted` was lost.
    lost = [lead("bat_r", 100 + i, f"+614{100 + i:08d}") for i in range(3)]
    open_leads = open_rows(known + lost, "testing")
    token = "test-internal-token"
    async with stand_in_ingest(open_leads, token) as (url, calls):
        after = scheduler_settings(
            topic_prefix=before.topic_prefix + "reborn.",
            ingest_url=url,
            internal_token=token,
            redrive_on_startup=True,
            redrive_page_size=4,
            probe_timeout_seconds=3,
            max_call_seconds=1,
            probe_expiry_skew_seconds=1,
        )
        finalised_before = REGISTRY.get_sample_value("lc_scheduler_finalised_total") or 0.0
        async with running(after) as app, StandInProber(after, ["alpha", "beta"]) as prober:
            await until(
                lambda: {p.lead_id for p in prober.requests} == {e.lead_id for e in known + lost},
                90,
                "every open lead dispatched again",
            )
            await until(lambda: all_final(app.state.scheduler.schedule), 60, "all final")
            assert calls[0]["open"] == "true" and len(calls) == 4  # 15 leads, pages of 4
            # No lead lost, none finalised twice: a probe may go out again after its
            # timeout (3 s here, less than the verdict consumer's group join), and its
            # second final verdict changes nothing.
            finalised = REGISTRY.get_sample_value("lc_scheduler_finalised_total") or 0.0
            assert finalised - finalised_before == len(known + lost)
            for probe in prober.requests:
                if probe.lead_id in first:
                    # The outstanding ones timed out: same attempt, new probe id.
                    assert probe.probe_id != first[probe.lead_id].probe_id
                    assert probe.attempt == first[probe.lead_id].attempt
            assert app.state.scheduler.redriver.last.inserted == 3

            # The re-drive endpoint: refused without the token, started with it.
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
                refused = await client.post("/internal/v1/redrive")
                assert refused.status_code == 401
                started = await client.post(
                    "/internal/v1/redrive", headers={"X-LC-Internal-Token": token}
                )
                assert started.status_code == 202
                await until(
                    lambda: not app.state.scheduler.redriver.last.running and len(calls) == 8,
                    30,
                    "second re-drive",
                )
                status = await client.get(
                    "/internal/v1/redrive", headers={"X-LC-Internal-Token": token}
                )
                # Everything is final here and was finalised just now: nothing to do.
                assert status.json()["last"]["inserted"] == 0
                assert status.json()["last"]["reopened"] == 0


async def test_the_periodic_redrive_takes_back_what_ingest_holds_open(
    scheduler_settings: Any,
) -> None:
    # No start-up re-drive, no operator: only the periodic one finds the two leads
    # ingest holds open (their `leads.accepted` went with the broker).
    lost = [lead("bat_p", i, f"+614{200 + i:08d}") for i in range(2)]
    open_leads = open_rows(lost, "accepted")
    token = "test-internal-token"
    async with stand_in_ingest(open_leads, token) as (url, calls):
        settings = scheduler_settings(
            ingest_url=url,
            internal_token=token,
            redrive_on_startup=False,
            redrive_interval_seconds=1,
        )
        async with running(settings), StandInProber(settings, ["alpha", "beta"]) as prober:
            await until(
                lambda: {p.lead_id for p in prober.requests} == {e.lead_id for e in lost},
                60,
                "the open leads dispatched by the periodic re-drive",
            )
            assert calls, "ingest was never asked"
