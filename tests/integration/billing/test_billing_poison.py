"""A poison event on billing's input topic: parked, counted, logged; billing goes on."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.integration.billing.support import verdict
from tests.support import poison_is_parked_and_the_next_event_handled, serving

from lc_billing.config import BillingSettings
from lc_billing.main import create_app
from lc_common.events import LEAD_VERDICTS
from lc_common.kafka import Publisher, ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_lead_verdicts_parks_poison_and_goes_on(billing_settings: BillingSettings) -> None:
    settings = billing_settings
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [LEAD_VERDICTS])
    publisher = Publisher(settings)
    await publisher.start()
    headers = {
        "X-LC-Internal-Token": settings.internal_token.get_secret_value(),
        "X-LC-Account-Id": account,
    }
    app = create_app(settings)
    try:
        async with (
            serving(app, settings.http_port) as url,
            httpx.AsyncClient(base_url=url, headers=headers) as http,
        ):
            await http.post("/internal/v1/grants", json={"units": 5, "description": "demo"})
            lead = {"lead_id": f"{batch}:{1:09d}", "batch_id": batch}
            await http.post(
                "/internal/v1/reservations", json={"account_id": account, "leads": [lead]}
            )
            # A verdict that names another account for a lead this account reserved:
            # never charged to either.
            impossible = verdict("acc_someone_else", batch, 1).model_dump(mode="json")

            async def charged() -> bool:
                balance = (await http.get("/internal/v1/balance")).json()
                return bool(balance["balance"] == 4 and balance["reserved"] == 1)

            await poison_is_parked_and_the_next_event_handled(
                settings,
                publisher,
                LEAD_VERDICTS,
                impossible=impossible,
                good=verdict(account, batch, 2),
                handled=charged,
            )
            assert app.state.workers.alive
    finally:
        await publisher.stop()
