"""Billing against a real broker and store (purchases: test_billing_stripe.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from prometheus_client import REGISTRY
from tests.integration.billing.support import read_topic, verdict
from tests.support import serving

from lc_billing.config import BillingSettings
from lc_billing.main import create_app
from lc_common.events import LEAD_VERDICTS, CreditEventV1
from lc_common.kafka import Publisher, ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


def _headers(settings: BillingSettings, account_id: str) -> dict[str, str]:
    return {
        "X-LC-Internal-Token": settings.internal_token.get_secret_value(),
        "X-LC-Account-Id": account_id,
    }


async def _eventually(probe: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not await probe():
            await asyncio.sleep(0.1)


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return check()

    return probe


def _credit_events(values: list[bytes]) -> list[CreditEventV1]:
    return [CreditEventV1.model_validate_json(v) for v in values]


async def test_reserved_leads_are_charged_once_and_credit_never_goes_negative(
    billing_settings: BillingSettings,
) -> None:
    settings = billing_settings
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [LEAD_VERDICTS])
    publisher = Publisher(settings)
    await publisher.start()
    async with serving(create_app(settings), settings.http_port) as url:
        http = httpx.AsyncClient(base_url=url, headers=_headers(settings, account))
        grant = await http.post("/internal/v1/grants", json={"units": 3, "description": "demo"})
        assert grant.status_code == 201, grant.text
        events = [verdict(account, batch, row) for row in range(1, 5)]
        leads = [{"lead_id": e.lead_id, "batch_id": batch} for e in events]
        reserved = await http.post(
            "/internal/v1/reservations", json={"account_id": account, "leads": leads}
        )
        assert reserved.json()["refused"] == [events[3].lead_id]

        # Four leads finish (the fourth was refused but a verdict came anyway); two
        # verdicts arrive twice; one lead only retries; garbage lands in between.
        handled_before = _handled("ok")
        sends = [*events, events[0], verdict(account, batch, 9, final=False), events[2]]
        await publisher.producer.send_and_wait(
            settings.topic(LEAD_VERDICTS.name), b"\x00not json", key=b"x"
        )
        for event in sends:
            await publisher.publish(LEAD_VERDICTS, event, key=event.lead_id)

        dlq = await read_topic(settings, LEAD_VERDICTS.dlq, lambda vs: len(vs) >= 1)
        assert dlq == [b"\x00not json"]
        await _eventually(_async(lambda: _handled("ok") - handled_before >= len(sends)))
        assert _handled("ok") - handled_before == len(sends)
        assert (await http.get("/internal/v1/balance")).json() == {
            "account_id": account,
            "balance": 0,
            "reserved": 0,
            "available": 0,
            "unit": "CU",
        }
        rows = (await http.get("/internal/v1/transactions")).json()["transactions"]
        assert [(r["kind"], r["units"], r["batch_id"]) for r in rows] == [
            ("deduction", 3, batch),
            ("grant", 3, None),
        ]
        exhausted = _credit_events(
            await read_topic(settings, "billing.events", lambda vs: len(vs) >= 1)
        )
        assert [(e.kind, e.account_id) for e in exhausted] == [("exhausted", account)]

        await http.post("/internal/v1/grants", json={"units": 5, "description": "more"})
        both = _credit_events(await read_topic(settings, "billing.events", lambda vs: len(vs) >= 2))
        assert [(e.kind, e.balance) for e in both] == [("exhausted", 3), ("restored", 5)]
        await http.aclose()
    await publisher.stop()


def _handled(outcome: str) -> float:
    """Verdicts the billing consumer finished with, in this process (a counter, so take deltas)."""
    labels = {"topic": LEAD_VERDICTS.name, "group": "billing.lead-verdicts", "outcome": outcome}
    return REGISTRY.get_sample_value("lc_events_consumed_total", labels) or 0.0


async def test_internal_api_refuses_calls_without_the_token(
    billing_settings: BillingSettings,
) -> None:
    async with (
        serving(create_app(billing_settings), billing_settings.http_port) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        answer = await http.get("/internal/v1/balance", headers={"X-LC-Account-Id": "acc_x"})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"
        assert (await http.get("/readyz")).status_code == 200
