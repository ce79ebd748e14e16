"""Ingest as a real HTTP service: a batch paused while importing stays paused (never
finished early), a batch imported while the account has no credit waits for it, and
billing's reconciler reads leads' states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.support import serving, until

from lc_common.clock import ManualClock
from lc_common.events import BILLING_EVENTS, LEAD_VERDICTS, CreditEventV1, Evidence, LeadVerdictV1
from lc_common.kafka import Publisher
from lc_common.store import connect_mongo, database
from lc_ingest.adapters.store import MongoIngestStore
from lc_ingest.config import IngestSettings
from lc_ingest.domain.lead import lead_id
from lc_ingest.main import create_app
from lc_localstack.peers import free_port

from .test_ingest_invariants import read_batch_events

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
TOKEN = "ingest-pause-token"
INVALID, VALID = 20_000, 30


def final(batch_id: str, row: int) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_p",
        batch_id=batch_id,
        lead_id=lead_id(batch_id, row),
        probe_id=f"p{row}",
        attempt=1,
        status="connected",
        final=True,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t", codes=[180], tested_at=datetime.now(UTC)),
        chargeable=row % 2 == 0,
    )


async def test_paused_while_importing_stays_paused_then_finishes_once_resumed(
    service_env: dict[str, str],
) -> None:
    settings = IngestSettings(
        http_port=free_port(),
        internal_token=TOKEN,
        import_chunk_rows=500,
        reconcile_interval_seconds=0.1,  # type: ignore[arg-type]
    )
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_p"}
    rows = ["not a number"] * INVALID + [f"0412 345 {600 + n}" for n in range(VALID)]
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
                files={"file": ("big.csv", "phone\n" + "\n".join(rows) + "\n", "text/csv")},
                data={"name": "Big", "reference": "r", "phone_column": "phone"},
            )
            batch_id = created.json()["id"]
            path = f"/internal/v1/batches/{batch_id}"
            paused = (await client.patch(path, json={"paused": True})).json()
            assert (paused["status"], paused["paused"]) == ("paused", True)
            store = app.state.runtime.store

            seen: list[dict[str, Any]] = []

            async def imported() -> bool:
                batch: dict[str, Any] = (await client.get(path)).json()
                seen.append(batch)
                stored = await store.get_batch(batch_id)
                return stored is not None and stored.import_done

            await until(imported, 120, "the import", poll=0.05)
            assert len(seen) > 3, "the pause must land while importing"
            assert all(b["status"] == "paused" for b in seen), {b["status"] for b in seen}
            batch = (await client.get(path)).json()
            assert (batch["status"], batch["paused"]) == ("paused", True)
            assert (batch["imported"], batch["accepted"], batch["remaining"]) == (
                INVALID + VALID,
                VALID,
                VALID,
            )
            # The scheduler hears `paused` last: it holds the leads.
            kinds = await read_batch_events(settings, batch_id, 2)
            assert kinds == ["paused", "paused"]

            resumed = (await client.patch(path, json={"paused": False})).json()
            assert (resumed["status"], resumed["paused"]) == ("queued", False)
            for n in range(VALID):
                event = final(batch_id, INVALID + 1 + n)
                await publisher.publish(LEAD_VERDICTS, event, key=event.lead_id)

            async def finished() -> bool:
                return bool((await client.get(path)).json()["status"] == "finished")

            await until(finished, 60, "the batch to finish")
            batch = (await client.get(path)).json()
            assert (batch["processed"], batch["remaining"]) == (VALID, 0)

            # Billing's reconciler reads leads' states; unknown ids are left out.
            ids = [lead_id(batch_id, INVALID + 1), lead_id(batch_id, INVALID + 2)]
            states = await client.post(
                "/internal/v1/leads/states",
                json={"lead_ids": [*ids, lead_id(batch_id, 999_999), lead_id(batch_id, 1)]},
                headers={"X-LC-Internal-Token": TOKEN},
            )
            assert states.status_code == 200, states.text
            by_id = {s["lead_id"]: s for s in states.json()["leads"]}
            assert set(by_id) == {*ids, lead_id(batch_id, 1)}
            assert by_id[ids[0]] == {
                "lead_id": ids[0],
                "account_id": "acc_p",
                "batch_id": batch_id,
                "state": "connected",
                "final": True,
                "chargeable": False,
                "attempts": 1,
            }
            assert by_id[ids[1]]["chargeable"] is True
            assert by_id[lead_id(batch_id, 1)]["state"] == "rejected"
            assert by_id[lead_id(batch_id, 1)]["chargeable"] is None
            refused = await client.post(
                "/internal/v1/leads/states",
                json={"lead_ids": ["bad id!"]},
                headers={"X-LC-Internal-Token": TOKEN},
            )
            assert refused.status_code == 422
            unauthorised = await client.post(
                "/internal/v1/leads/states",
                json={"lead_ids": ids},
                headers={"X-LC-Internal-Token": "x"},
            )
            assert unauthorised.status_code == 401
    finally:
        await publisher.stop()


async def test_a_batch_imported_without_credit_waits_for_it(service_env: dict[str, str]) -> None:
    settings = IngestSettings(http_port=free_port(), internal_token=TOKEN)  # type: ignore[arg-type]
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_c"}
    app = create_app(settings, ManualClock(datetime.now(UTC)))
    publisher = Publisher(settings)
    await publisher.start()
    now = datetime.now(UTC)
    try:
        async with (
            serving(app, settings.http_port) as url,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
        ):
            store = app.state.runtime.store
            exhausted = CreditEventV1(
                account_id="acc_c", kind="exhausted", balance=0, occurred_at=now
            )
            await publisher.publish(BILLING_EVENTS, exhausted, key="acc_c")

            async def credit_is(state: str) -> bool:
                return bool(await store.credit_state("acc_c") == state)

            await until(lambda: credit_is("exhausted"), 60, "the credit state")
            created = await client.post(
                "/internal/v1/batches",
                files={"file": ("l.csv", "phone\n0412 345 670\n", "text/csv")},
                data={"name": "C", "reference": "r", "phone_column": "phone"},
            )
            path = f"/internal/v1/batches/{created.json()['id']}"

            async def status_is(status: str) -> bool:
                return bool((await client.get(path)).json()["status"] == status)

            await until(lambda: status_is("paused_no_credit"), 60, "the credit pause")
            restored = CreditEventV1(
                account_id="acc_c", kind="restored", balance=5, occurred_at=now + timedelta(1)
            )
            await publisher.publish(BILLING_EVENTS, restored, key="acc_c")
            await until(lambda: status_is("queued"), 60, "the credit resumption")
            # A replayed, older `exhausted` changes nothing.
            await publisher.publish(BILLING_EVENTS, exhausted, key="acc_c")
            marker = CreditEventV1(account_id="acc_x", kind="exhausted", balance=0)
            await publisher.publish(BILLING_EVENTS, marker, key="acc_c")  # same partition

            async def marker_read() -> bool:
                return bool(await store.credit_state("acc_x") == "exhausted")

            await until(marker_read, 60, "the events after the replay")
            assert await status_is("queued")
            kinds = await read_batch_events(settings, created.json()["id"], 2)
            assert kinds == ["credit_paused", "credit_resumed"]
    finally:
        await publisher.stop()


async def test_credit_restored_half_a_second_after_it_ran_out_is_kept(
    service_env: dict[str, str],
) -> None:
    """Billing announces `exhausted` on a refused reservation and `restored` on the grant
    that follows within the second: the newer state wins on the real store (whose
    update filters do not order date-like text), and replays change nothing."""
    settings = IngestSettings()
    client = connect_mongo(settings)
    try:
        store = MongoIngestStore(database(client, settings))
        ran_out = datetime(2026, 11, 30, 11, 53, 9, 321469, tzinfo=UTC)
        back = ran_out + timedelta(milliseconds=547)
        assert await store.record_credit("acc_1", "exhausted", ran_out)
        assert await store.record_credit("acc_1", "restored", back)
        assert await store.credit_state("acc_1") == "restored"
        assert not await store.record_credit("acc_1", "exhausted", ran_out)  # a replay
        assert await store.credit_state("acc_1") == "restored"
    finally:
        await client.close()
