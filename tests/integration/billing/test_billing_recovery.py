"""What heals billing after a loss, on the real store and broker: the reconciler settles
reservations whose verdict never arrived (against a stand-in ingest over real HTTP), an
event written with its state but never relayed is delivered by the next relay, and the
public webhook refuses oversized bodies."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException
from tests.integration.billing.support import credit_events, read_topic, verdict
from tests.support import serving, until

from lc_billing import handlers
from lc_billing.adapters.ledger import Balance
from lc_billing.api import MAX_WEBHOOK_BYTES
from lc_billing.bootstrap import BillingRuntime, build
from lc_billing.config import BillingSettings
from lc_billing.main import create_app
from lc_billing.reconciler import reconcile_once
from lc_common.clock import ManualClock
from lc_common.events import BILLING_EVENTS
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.timeout(120)]
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _ingest_stand_in(states: dict[str, dict[str, Any]], token: str) -> FastAPI:
    """Ingest's `POST /internal/v1/leads/states`, answering from `states` (unknown ids omitted)."""
    app = FastAPI()

    @app.post("/internal/v1/leads/states")
    async def lead_states(
        body: dict[str, list[str]],
        internal_token: str | None = Header(None, alias="X-LC-Internal-Token"),
    ) -> dict[str, Any]:
        if internal_token != token:
            raise HTTPException(401)
        assert len(body["lead_ids"]) <= 1000
        return {"leads": [states[lead] for lead in body["lead_ids"] if lead in states]}

    return app


@contextlib.asynccontextmanager
async def _runtime(settings: BillingSettings, clock: ManualClock) -> AsyncIterator[BillingRuntime]:
    runtime = await build(settings, clock)
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_the_reconciler_settles_what_lost_verdicts_left_open(
    billing_settings: BillingSettings,
) -> None:
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    leads = [f"{batch}:{row:09d}" for row in range(1, 5)]

    def state(lead: str, final: bool, chargeable: bool | None) -> dict[str, Any]:
        return {
            "lead_id": lead,
            "account_id": account,
            "batch_id": batch,
            "state": "connected" if final else "retry",
            "final": final,
            "chargeable": chargeable,
            "attempts": 1,
        }

    states = {
        leads[0]: state(leads[0], True, True),  # its verdict was lost
        leads[1]: state(leads[1], True, False),  # trunk faults only
        leads[3]: state(leads[3], False, None),  # still retrying
    }  # leads[2] is unknown: its batch was deleted
    port = free_port()
    settings = billing_settings.model_copy(update={"ingest_url": f"http://127.0.0.1:{port}"})
    clock = ManualClock(START)
    token = settings.internal_token.get_secret_value()
    async with (
        serving(_ingest_stand_in(states, token), port),
        _runtime(settings, clock) as runtime,
    ):
        deps = runtime.deps
        await handlers.grant(deps, account, 5, "test")
        await handlers.reserve(deps, account, [(lead, batch) for lead in leads])
        due, ingest = runtime.reservations, runtime.ingest
        assert await reconcile_once(deps, due, ingest) == {}  # nothing old enough yet

        clock.advance(timedelta(seconds=settings.billing_reconcile_after_seconds + 1))
        outcomes = await reconcile_once(deps, due, ingest)
        assert outcomes == {"charged": 1, "released": 2, "left": 1}
        assert await deps.ledger.balance(account) == Balance(balance=4, reserved=1, available=3)

        # The lost verdict turns up after all: nothing is charged twice.
        await handlers.handle_verdict(verdict(account, batch, 1), deps)
        assert await reconcile_once(deps, due, ingest) == {}  # the retrying lead waits
        clock.advance(timedelta(seconds=settings.billing_reconcile_after_seconds + 1))
        assert await reconcile_once(deps, due, ingest) == {"left": 1}
        assert await deps.ledger.balance(account) == Balance(balance=4, reserved=1, available=3)


async def test_an_event_written_but_never_relayed_is_delivered_by_the_next_relay(
    billing_settings: BillingSettings,
) -> None:
    account, batch = f"acc_{uuid.uuid4().hex[:8]}", f"bat_{uuid.uuid4().hex[:8]}"
    clock = ManualClock(START)
    # The first process writes `exhausted` and dies before its relay runs.
    async with _runtime(billing_settings, clock) as crashed:
        answer = await handlers.reserve(crashed.deps, account, [(f"{batch}:000000001", batch)])
        assert answer["refused"] == [f"{batch}:000000001"]
        assert await crashed.deps.ledger.credit_state(account) == "exhausted"
        accounts = crashed.mongo[billing_settings.database_name]["accounts"]
        doc = await accounts.find_one({"_id": account})
        assert doc is not None and len(doc["outbox"]) == 1
    async with _runtime(billing_settings, clock) as restarted:
        relay = asyncio.create_task(restarted.relay.run())
        try:
            values = await read_topic(billing_settings, BILLING_EVENTS.name, lambda v: len(v) >= 1)
            await until(lambda: _outbox_empty(restarted, billing_settings, account))
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
    assert [(e.kind, e.account_id) for e in credit_events(values)] == [("exhausted", account)]


async def _outbox_empty(runtime: BillingRuntime, settings: BillingSettings, account: str) -> bool:
    doc = await runtime.mongo[settings.database_name]["accounts"].find_one({"_id": account})
    return doc is not None and doc["outbox"] == []


async def test_the_payment_webhook_refuses_oversized_bodies(
    billing_settings: BillingSettings,
) -> None:
    settings = billing_settings
    too_big = b"{" + b" " * MAX_WEBHOOK_BYTES + b"}"

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(too_big), 8192):
            yield too_big[start : start + 8192]

    async with (
        serving(create_app(settings), settings.http_port) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        declared = await http.post("/webhooks/payments", content=too_big)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "too_large"
        chunked = await http.post("/webhooks/payments", content=streamed())
        assert chunked.status_code == 413
        # A normal-sized body still reaches the signature check.
        small = await http.post("/webhooks/payments", content=b"{}")
        assert small.status_code == 400
        assert small.json()["error"]["code"] == "invalid_signature"
