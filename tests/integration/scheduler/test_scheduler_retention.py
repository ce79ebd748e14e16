"""Through the real scheduler and ingest: dispatched leads show `testing`; retention runs
out on the scheduler's clock and ingest deletes the batch."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from scheduler_helpers import (
    StandInProber,
    deleted_here,
    final_verdict,
    publisher,
    read,
    retention_started,
    running,
    stored,
)
from tests.support import serving, until

from lc_common.clock import ManualClock
from lc_common.events import LEAD_VERDICTS
from lc_ingest.config import IngestSettings
from lc_ingest.main import create_app as create_ingest
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
TOKEN = "retention-test-token"
CSV = b"name,phone\nAda,0412 345 670\nBob,0412 345 671\nCy,0412 345 672\n"


async def test_a_batch_past_retention_ends_deleted_with_leads_purged(
    scheduler_settings: Any,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    ingest_settings = IngestSettings(http_port=free_port(), internal_token=TOKEN)  # type: ignore[arg-type]
    ingest_app = create_ingest(ingest_settings, clock)
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"}
    async with serving(ingest_app, ingest_settings.http_port) as url:
        settings = scheduler_settings(
            ingest_url=url, internal_token=TOKEN, retention_check_interval_seconds=0.2
        )
        async with (
            running(settings, clock=clock) as app,
            publisher(settings) as pub,
            StandInProber(settings, ["alpha", "beta"]) as prober,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
        ):
            prober.answer = False  # the calls are under way until we answer
            created = await client.post(
                "/internal/v1/batches",
                files={"file": ("leads.csv", CSV, "text/csv")},
                data={"name": "Old", "reference": "r", "phone_column": "phone"},
            )
            batch_id = created.json()["id"]
            path = f"/internal/v1/batches/{batch_id}"

            async def status() -> str:
                return str((await client.get(path)).json()["status"])

            async def finished() -> bool:
                return await status() == "finished"

            async def shown(status: str) -> bool:
                rows = list(csv.reader(io.StringIO((await client.get(f"{path}/download")).text)))
                return [r[2] for r in rows[1:]] == [status] * 3

            # Dispatched: each lead shows `testing` (`leads.dispatched`) until its verdict.
            await until(lambda: shown("testing"), 60, "the leads shown as testing")
            assert len(prober.requests) == 3
            prober.answer = True
            verdicts = [(p.lead_id, final_verdict(p)) for p in prober.requests]
            await pub.publish_many(LEAD_VERDICTS, verdicts)
            await until(finished, 90, "the batch tested and finished")
            assert await shown("connected")
            schedule = app.state.scheduler.schedule
            await until(
                lambda: read(schedule, lambda tx: retention_started(tx, batch_id)),
                30,
                "the retention clock started from the finished event",
            )
            assert (await client.get(f"{path}/download")).status_code == 200
            clock.advance(timedelta(days=41))
            rt = ingest_app.state.runtime
            leads = rt.store.leads
            assert await leads.count_documents({"batch_id": batch_id}) == 3
            assert await status() == "finished"  # not yet: 41 days
            lead_ids = [f"{batch_id}:{row:09d}" for row in range(6)]
            assert len(await stored(schedule, lead_ids)) == 3

            async def deleted() -> bool:
                return await status() == "deleted"

            clock.advance(timedelta(days=1, seconds=1))
            await until(deleted, 30, "the batch deleted")
            gone = await client.get(f"{path}/download")
            assert gone.status_code == 410
            assert "retention" in gone.json()["error"]["message"]
            assert await leads.count_documents({"batch_id": batch_id}) == 0
            assert await read(schedule, lambda tx: deleted_here(tx, batch_id))
            assert await stored(schedule, lead_ids) == {}
