"""A poison event on each of ingest's input topics: parked, counted, logged; ingest goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.support import poison_is_parked_and_the_next_event_handled, serving, until

from lc_common.clock import ManualClock
from lc_common.events import (
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_DISPATCHED,
    CreditEventV1,
    DispatchedLead,
    Evidence,
    LeadsDispatchedV1,
    LeadVerdictV1,
)
from lc_common.kafka import Publisher
from lc_ingest.config import IngestSettings
from lc_ingest.main import create_app
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
TOKEN = "ingest-poison-token"
CSV = b"name,phone\nAda,0412 345 670\nBob,0412 345 671\n"


async def test_each_input_topic_parks_poison_and_goes_on(service_env: dict[str, str]) -> None:
    settings = IngestSettings(http_port=free_port(), internal_token=TOKEN)  # type: ignore[arg-type]
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"}
    app = create_app(settings, ManualClock(datetime.now(UTC)))
    publisher = Publisher(settings)
    await publisher.start()
    try:
        async with (
            serving(app, settings.http_port) as url,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
        ):
            created = await client.post(
                "/internal/v1/batches",
                files={"file": ("leads.csv", CSV, "text/csv")},
                data={"name": "P", "reference": "r", "phone_column": "phone"},
            )
            path = f"/internal/v1/batches/{created.json()['id']}"

            async def batch() -> dict[str, Any]:
                found: dict[str, Any] = (await client.get(path)).json()
                return found

            async def queued() -> bool:
                return (await batch())["status"] == "queued"

            await until(queued, 60, "the import")
            b = await batch()
            good = LeadVerdictV1(
                account_id="acc_1",
                batch_id=b["id"],
                lead_id=f"{b['id']}:000000001",
                probe_id="p1",
                attempt=1,
                status="disconnected",
                final=True,
                detail="SIP 404 Not Found",
                confidence=90,
                evidence=Evidence(trunk="t", codes=[404], tested_at=datetime.now(UTC)),
            )
            # A verdict for a lead that never existed cannot be projected anywhere.
            unknown = {
                **good.model_dump(mode="json"),
                "lead_id": f"{b['id']}:000000099",
                "event_id": None,
            }
            unknown.pop("event_id")

            async def projected() -> bool:
                return (await batch())["disconnected"] == 1

            await poison_is_parked_and_the_next_event_handled(
                settings, publisher, LEAD_VERDICTS, impossible=unknown, good=good, handled=projected
            )

            async def testing() -> bool:
                lead = await app.state.runtime.store.get_lead(f"{b['id']}:000000002")
                return lead is not None and lead.state == "testing"

            dispatched = LeadsDispatchedV1(
                account_id="acc_1",
                batch_id=b["id"],
                leads=[DispatchedLead(lead_id=f"{b['id']}:000000002", attempt=1)],
            )
            await poison_is_parked_and_the_next_event_handled(
                settings,
                publisher,
                LEADS_DISPATCHED,
                # Well-formed, but of a batch ingest never had.
                impossible={
                    "account_id": "acc_1",
                    "batch_id": "bat_unknown",
                    "leads": [{"lead_id": "bat_unknown:000000002", "attempt": 1}],
                },
                good=dispatched,
                handled=testing,
            )

            async def paused_for_credit() -> bool:
                return (await batch())["status"] == "paused_no_credit"

            await poison_is_parked_and_the_next_event_handled(
                settings,
                publisher,
                BILLING_EVENTS,
                impossible={"account_id": "acc_1", "kind": "restored", "balance": 0},
                good=CreditEventV1(account_id="acc_1", kind="exhausted", balance=0),
                handled=paused_for_credit,
            )
            assert app.state.workers.alive
    finally:
        await publisher.stop()
