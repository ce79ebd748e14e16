"""Reservations on the real store and broker, through billing's HTTP API: concurrent
requests never overdraw, re-reserving is idempotent, verdicts settle (charge once, or
release when not chargeable), batches release, exhaustion is announced once and
restored by a grant."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from tests.integration.billing.support import credit_events, headers, read_topic, verdict
from tests.support import serving, until

from lc_billing.config import BillingSettings
from lc_billing.main import create_app
from lc_common.events import BILLING_EVENTS, LEAD_VERDICTS
from lc_common.kafka import Publisher, ensure_topics

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(120)]


def _leads(batch: str, rows: range) -> list[dict[str, str]]:
    return [{"lead_id": f"{batch}:{row:09d}", "batch_id": batch} for row in rows]


async def _reserve(http: httpx.AsyncClient, account: str, leads: list[dict[str, str]]) -> Any:
    answer = await http.post(
        "/internal/v1/reservations", json={"account_id": account, "leads": leads}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _balance(http: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get("/internal/v1/balance")).json()
    return body


async def test_fifty_concurrent_requests_get_exactly_the_ten_units_available(
    billing_settings: BillingSettings,
) -> None:
    settings = billing_settings
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers(settings, account)) as http,
    ):
        await http.post("/internal/v1/grants", json={"units": 10})
        answers = await asyncio.gather(
            *(_reserve(http, account, _leads(batch, range(row, row + 1))) for row in range(50))
        )
        granted = [lead for a in answers for lead in a["reserved"]]
        refused = [lead for a in answers for lead in a["refused"]]
        assert len(granted) == 10 and len(refused) == 40
        assert min(a["available"] for a in answers) == 0
        assert await _balance(http) == {
            "account_id": account,
            "balance": 10,
            "reserved": 10,
            "available": 0,
            "unit": "CU",
        }
        # Asking again for the same leads takes nothing more and refuses the same ones.
        again = await _reserve(http, account, _leads(batch, range(50)))
        assert sorted(again["reserved"]) == sorted(granted)
        assert sorted(again["refused"]) == sorted(refused)
        assert (await _balance(http))["available"] == 0


async def test_verdicts_settle_reservations_and_batches_release_them(
    billing_settings: BillingSettings,
) -> None:
    settings = billing_settings
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [LEAD_VERDICTS])
    publisher = Publisher(settings)
    await publisher.start()
    try:
        async with (
            serving(create_app(settings), settings.http_port) as url,
            httpx.AsyncClient(base_url=url, headers=headers(settings, account)) as http,
        ):
            await http.post("/internal/v1/grants", json={"units": 5})
            first = await _reserve(http, account, _leads(batch, range(1, 6)))
            assert len(first["reserved"]) == 5 and first["available"] == 0

            charged = verdict(account, batch, 1)  # chargeable, sent three times
            trunk_faults_only = verdict(account, batch, 2, chargeable=False)
            retrying = verdict(account, batch, 3, final=False)
            for event in (charged, charged, trunk_faults_only, retrying, charged):
                await publisher.publish(LEAD_VERDICTS, event, key=event.lead_id)

            async def settled() -> bool:
                return await _balance(http) == {
                    "account_id": account,
                    "balance": 4,
                    "reserved": 3,
                    "available": 1,
                    "unit": "CU",
                }

            await until(settled, what="one charge and one release")
            again = await _reserve(http, account, _leads(batch, range(1, 4)))
            assert again["settled"] == [f"{batch}:{1:09d}", f"{batch}:{2:09d}"]
            assert again["reserved"] == [f"{batch}:{3:09d}"]
            rows = (await http.get("/internal/v1/transactions")).json()["transactions"]
            assert (rows[0]["kind"], rows[0]["units"]) == ("deduction", 1)

            # The batch fails: its open reservations (rows 3, 4, 5) are released, once.
            for _ in range(2):
                answer = await http.post(
                    "/internal/v1/reservations/release", json={"batch_id": batch}
                )
                assert answer.status_code == 200
            assert answer.json() == {"released": 0}
            assert (await _balance(http))["available"] == 4
            by_leads = await http.post(
                "/internal/v1/reservations/release", json={"lead_ids": [f"{batch}:{1:09d}"]}
            )
            assert by_leads.json() == {"released": 0}
            assert (await _balance(http))["balance"] == 4
    finally:
        await publisher.stop()


async def test_exhaustion_is_announced_once_then_restored_by_a_grant(
    billing_settings: BillingSettings,
) -> None:
    settings = billing_settings
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url, headers=headers(settings, account)) as http,
    ):
        # A new account with nothing: every lead refused, exhausted announced once.
        for _ in range(3):
            refused = await _reserve(http, account, _leads(batch, range(1, 11)))
            assert refused["reserved"] == [] and len(refused["refused"]) == 10
        assert (await _balance(http))["balance"] == 0
        await http.post("/internal/v1/grants", json={"units": 2})
        partial = await _reserve(http, account, _leads(batch, range(1, 11)))
        assert partial["reserved"] == [f"{batch}:{1:09d}", f"{batch}:{2:09d}"]
        assert partial["refused"] == [f"{batch}:{row:09d}" for row in range(3, 11)]
        # Releasing a unit does not restore (no flapping); the next refusal exhausts again.
        await http.post("/internal/v1/reservations/release", json={"batch_id": batch})
        values = await read_topic(settings, BILLING_EVENTS.name, lambda vs: len(vs) >= 3)
        events = credit_events(values)
        assert [(e.kind, e.account_id) for e in events] == [
            ("exhausted", account),
            ("restored", account),
            ("exhausted", account),
        ]
        assert [e.balance for e in events] == [0, 2, 2]
        assert len({e.event_id for e in events}) == 3

        async def relayed() -> bool:
            return not await _outbox(settings, account)

        await until(relayed, what="the outbox emptied")


async def _outbox(settings: BillingSettings, account: str) -> list[str]:
    from lc_common.store import connect_mongo, database

    client = connect_mongo(settings)
    try:
        doc = await database(client, settings)["accounts"].find_one({"_id": account})
    finally:
        await client.close()
    return list((doc or {}).get("outbox", []))
