"""Ingest's counters and statuses through the real importer, handlers and lifecycle, on the
in-memory store (docs/invariants.md I1, I5, I6): `Accepted = Processed + Remaining`,
`Imported = Accepted + Rejected`, nothing negative, finished only when the import is
complete and every accepted lead is final, paused during import stays paused."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from tests.unit.ingest.fake_store import FakeIngestStore, FakePublisher

from lc_common.clock import ManualClock
from lc_common.events import (
    LEADS_ACCEPTED,
    DispatchedLead,
    Evidence,
    LeadsDispatchedV1,
    LeadVerdictV1,
)
from lc_common.http import ServiceError
from lc_ingest.domain.batch import Batch, received_batch
from lc_ingest.domain.csv_reader import Overrides
from lc_ingest.domain.dedupe import DuplicateDetector
from lc_ingest.domain.imports import judge_chunk
from lc_ingest.domain.lead import lead_id
from lc_ingest.handlers import TestingProjector as Dispatched
from lc_ingest.handlers import VerdictProjector
from lc_ingest.importer import Importer
from lc_ingest.lifecycle import BatchLifecycle

BATCH = "bat_0123456789ab"
STATUSES = ("connected", "disconnected", "indeterminate")


class Ingest:
    """The importer, handlers and lifecycle of ingest over one in-memory store."""

    def __init__(self) -> None:
        self.store = FakeIngestStore()
        self.publisher = FakePublisher()
        self.clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.lifecycle = BatchLifecycle(self.store, self.clock)
        self.importer = Importer(self.store, self.publisher, self.lifecycle, self.clock, 4)
        self.verdicts = VerdictProjector(self.store, self.lifecycle)
        self.testing = Dispatched(self.store)

    async def received(self, csv: Path) -> None:
        await self.store.create_batch(
            received_batch(
                BATCH,
                "acc_1",
                filename=csv.name,
                name="n",
                reference="r",
                phone_column="phone",
                default_region="AU",
                overrides=Overrides(),
                upload_path=str(csv),
                now=self.clock.now(),
            )
        )

    async def batch(self) -> Batch:
        batch = await self.store.get_batch(BATCH)
        assert batch is not None
        return batch

    def kinds(self) -> list[str]:
        return [event.kind for event in self.store.announced.get(BATCH, [])]  # type: ignore[attr-defined]


def leads_csv(tmp_path: Path, rows: int) -> Path:
    """`rows` rows, every third not a number, the last a duplicate of the first."""
    cells = [f"+614123{n:05d}" if n % 3 else "not a number" for n in range(1, rows)]
    csv = tmp_path / "leads.csv"
    csv.write_text("phone\n" + "\n".join([*cells, cells[0]]) + "\n")
    return csv


def verdict(row: int, attempt: int, final: bool, status: str = "indeterminate") -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_1",
        batch_id=BATCH,
        lead_id=lead_id(BATCH, row),
        probe_id=f"p{row}-{attempt}",
        attempt=attempt,
        status=status,  # type: ignore[arg-type]
        final=final,
        detail="SIP 480",
        confidence=50,
        evidence=Evidence(trunk="t", codes=[480], tested_at=datetime(2026, 3, 2, 10, tzinfo=UTC)),
        chargeable=final,
    )


def dispatched(row: int, attempt: int) -> LeadsDispatchedV1:
    lead = DispatchedLead(lead_id=lead_id(BATCH, row), attempt=attempt)
    return LeadsDispatchedV1(account_id="acc_1", batch_id=BATCH, leads=[lead])


async def check(ingest: Ingest) -> Batch:
    """The counters' invariants, and counters equal to the leads' own states."""
    batch = await ingest.batch()
    counts = batch.counters
    assert counts.accepted == counts.processed + counts.remaining, counts
    assert counts.imported == counts.accepted + counts.rejected, counts
    assert min(counts.as_dict().values()) >= 0 and counts.remaining >= 0, counts
    states = await ingest.store.count_states(BATCH)
    assert {s: getattr(counts, s) for s in (*STATUSES, "retry")} == {
        s: states.get(s, 0) for s in (*STATUSES, "retry")
    }
    if batch.status == "finished":
        assert batch.import_done and counts.remaining == 0
        assert not any(states.get(s) for s in ("pending", "testing", "retry")), states
    return batch


async def test_an_import_counts_every_row_once(tmp_path: Path) -> None:
    ingest = Ingest()
    await ingest.received(leads_csv(tmp_path, 31))
    await ingest.importer.run(BATCH, tmp_path / "leads.csv")
    batch = await check(ingest)
    counts = batch.counters
    assert (counts.imported, counts.accepted, counts.rejected) == (31, 20, 11)
    assert (batch.status, batch.import_done, ingest.kinds()) == ("queued", True, ["queued"])
    assert len(ingest.publisher.sent[LEADS_ACCEPTED.name]) == 20


async def test_an_import_times_each_stage_of_every_chunk(tmp_path: Path) -> None:
    def chunks_timed() -> dict[str, float]:
        return {
            stage: REGISTRY.get_sample_value(
                "lc_ingest_import_stage_seconds_count", {"stage": stage}
            )
            or 0.0
            for stage in ("judge", "store", "publish")
        }

    ingest = Ingest()
    await ingest.received(leads_csv(tmp_path, 31))
    before = chunks_timed()
    await ingest.importer.run(BATCH, tmp_path / "leads.csv")
    after = chunks_timed()
    # 31 rows in chunks of 4: 8 chunks judged, stored and published (judge also times
    # the read that finds the file's end).
    assert {stage: after[stage] - before[stage] for stage in after} == {
        "judge": 9,
        "store": 8,
        "publish": 8,
    }


async def test_a_resumed_import_counts_only_the_rows_it_had_not_stored(tmp_path: Path) -> None:
    ingest = Ingest()
    csv = leads_csv(tmp_path, 31)
    await ingest.received(csv)
    # A previous process stored (and counted) the first 9 rows, then died.
    rows = [(n, [line]) for n, line in enumerate(csv.read_text().splitlines()[1:10], 1)]
    first = judge_chunk(BATCH, "acc_1", "AU", rows, 0, DuplicateDetector())
    await ingest.store.insert_leads(first.leads)
    await ingest.store.add_to_counters(BATCH, {"imported": 9, "accepted": 6, "rejected": 3})
    await ingest.verdicts.handle(verdict(1, 1, True, "connected"))

    await ingest.importer.run(BATCH, csv)

    counts = (await check(ingest)).counters
    assert (counts.imported, counts.accepted, counts.rejected, counts.connected) == (31, 20, 11, 1)
    # The stored pending leads are announced again (their publish may be lost); not row 1.
    published = {e.lead_id for _, e in ingest.publisher.sent[LEADS_ACCEPTED.name]}
    assert lead_id(BATCH, 1) not in published and lead_id(BATCH, 2) in published


async def test_finished_only_when_the_import_is_complete_and_every_lead_final(
    tmp_path: Path,
) -> None:
    ingest = Ingest()
    csv = tmp_path / "two.csv"
    csv.write_text("phone\n+61412345670\n+61412345671\n")
    await ingest.received(csv)
    rows = [(1, ["+61412345670"]), (2, ["+61412345671"])]
    judged = judge_chunk(BATCH, "acc_1", "AU", rows, 0, DuplicateDetector())
    await ingest.store.insert_leads(judged.leads)
    await ingest.store.add_to_counters(BATCH, {"imported": 2, "accepted": 2})
    for row in (1, 2):  # every lead final while the import is still running
        await ingest.verdicts.handle(verdict(row, 1, True, "connected"))
    assert (await check(ingest)).status == "importing"

    await ingest.importer.run(BATCH, csv)
    batch = await check(ingest)
    assert batch.status == "finished" and ingest.kinds() == ["queued", "finished"]


async def test_a_batch_paused_while_importing_stays_paused(tmp_path: Path) -> None:
    ingest = Ingest()
    csv = leads_csv(tmp_path, 10)
    await ingest.received(csv)
    await ingest.lifecycle.set_paused(await ingest.batch(), True)

    await ingest.importer.run(BATCH, csv)

    batch = await check(ingest)
    assert (batch.status, batch.import_done, batch.paused) == ("paused", True, True)
    assert ingest.kinds() == ["paused", "paused"]  # `paused` again at the end, not `queued`
    resumed = await ingest.lifecycle.set_paused(batch, False)
    assert resumed.status == "queued"


@pytest.mark.parametrize("seed", range(12))
async def test_counters_stay_exact_whatever_the_order_of_events(tmp_path: Path, seed: int) -> None:
    """Dispatches, verdicts (non-final, final, any attempt), replays and pauses in a random
    order: after each, the invariants hold and the counters equal the leads' states."""
    rng = random.Random(seed)
    ingest = Ingest()
    csv = leads_csv(tmp_path, 13)
    await ingest.received(csv)
    await ingest.importer.run(BATCH, csv)
    accepted = [r for r in range(1, 13) if r % 3]
    seen: list[LeadVerdictV1] = []
    for _ in range(150):
        row = rng.choice(accepted)
        attempt = rng.randint(1, 3)
        step = rng.random()
        if step < 0.3:
            await ingest.testing.handle(dispatched(row, attempt))
        elif step < 0.8:
            final = rng.random() < 0.35
            seen.append(verdict(row, attempt, final, rng.choice(STATUSES)))
            await ingest.verdicts.handle(seen[-1])
        elif step < 0.95 and seen:
            await ingest.verdicts.handle(rng.choice(seen))  # a redelivery
        else:
            batch = await ingest.batch()
            if batch.status in ("queued", "running", "paused"):
                await ingest.lifecycle.set_paused(batch, batch.status != "paused")
        await check(ingest)
    for row in accepted:  # the last attempt of every lead is final
        await ingest.verdicts.handle(verdict(row, 4, True, "disconnected"))
        await check(ingest)
    batch = await check(ingest)
    assert batch.counters.remaining == 0 and batch.counters.processed == len(accepted)
    assert batch.status == "finished" and ingest.kinds().count("finished") == 1


async def test_retention_deletes_a_finished_batch_once_its_clock_ran_out(tmp_path: Path) -> None:
    ingest = Ingest()
    csv = tmp_path / "one.csv"
    csv.write_text("phone\n+61412345670\n")
    await ingest.received(csv)
    await ingest.importer.run(BATCH, csv)
    await ingest.verdicts.handle(verdict(1, 1, True, "connected"))
    finished = await check(ingest)
    assert finished.status == "finished" and finished.retention_from == ingest.clock.now()
    with pytest.raises(ServiceError) as refused:
        await ingest.lifecycle.delete_expired(BATCH, ingest.clock.now())
    assert refused.value.code == "not_expired"

    later = ingest.clock.now() + timedelta(weeks=6)
    deleted = await ingest.lifecycle.delete_expired(BATCH, later)
    assert deleted is not None and deleted.status == "deleted"
    assert await ingest.store.count_states(BATCH) == {}
    again = await ingest.lifecycle.delete_expired(BATCH, later)  # idempotent
    assert again is not None and again.status == "deleted"
    assert ingest.kinds() == ["queued", "finished", "deleted"]
