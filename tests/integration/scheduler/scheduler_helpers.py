"""Helpers for the scheduler's integration tests: the service in-process, real peers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from tests.support import serving, until

from lc_common.clock import Clock
from lc_common.consumer import Bulk, ConsumerSpec
from lc_common.events import (
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    Event,
    Evidence,
    LeadAcceptedV1,
    LeadVerdictV1,
    ProbeRequestV1,
    Topic,
    probe_requests,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_common.settings import ServiceSettings
from lc_common.trunks import load_trunks
from lc_scheduler.bootstrap import Scheduler
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.domain.entries import Entry
from lc_scheduler.main import create_app
from lc_scheduler.schedule import Schedule, Transaction

T = TypeVar("T")


@asynccontextmanager
async def running(
    settings: SchedulerSettings, *, leader: bool = True, clock: Clock | None = None
) -> AsyncIterator[FastAPI]:
    """The scheduler app with its lifespan running; by default once it leads and dispatches."""
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        if leader:
            await until(lambda: app.state.scheduler is not None, 60, "the lease taken")
        yield app
        assert app.state.workers.alive, app.state.workers.failure


async def read(schedule: Schedule, look: Callable[[Transaction], T]) -> T:
    """What `look` reads of the schedule, in a transaction (the only way in)."""
    async with schedule.transaction() as tx:
        return look(tx)


def paused(tx: Transaction, batch_id: str) -> bool:
    """True if the scheduler holds the batch as not dispatchable."""
    record = tx.batch(batch_id)
    return record is not None and not record.dispatchable


def released_pending(tx: Transaction, batch_id: str) -> bool:
    """True while the closed batch's reservations await their release."""
    record = tx.batch(batch_id)
    return record is not None and record.release_pending


def retention_started(tx: Transaction, batch_id: str) -> bool:
    """True once the batch's retention clock runs."""
    record = tx.batch(batch_id)
    return record is not None and record.retention_from is not None


def deleted_here(tx: Transaction, batch_id: str) -> bool:
    """True if the scheduler holds the batch as deleted."""
    record = tx.batch(batch_id)
    return record is not None and record.deleted


def attempt(tx: Transaction, lead_id: str) -> int | None:
    """The attempt of the lead's open entry (None: not open)."""
    entry = tx.entry(lead_id)
    return entry.attempt if entry is not None else None


async def all_final(schedule: Schedule) -> bool:
    """True once the schedule holds no open lead."""
    return not await read(schedule, lambda tx: tx.open_entries())


async def stored(schedule: Schedule, lead_ids: list[str]) -> dict[str, Entry]:
    """The entries of these leads, open or stored."""
    async with schedule.transaction() as tx:
        return await tx.entries(lead_ids)


async def accept(scheduler: Scheduler, leads: list[LeadAcceptedV1]) -> None:
    """Hand accepted leads to the scheduler as its bulk runner does: in one call."""
    strategy = handler_spec(scheduler, LEADS_ACCEPTED).strategy
    assert isinstance(strategy, Bulk)
    await strategy.handler(leads)


def handler(scheduler: Scheduler, topic: Topic) -> Callable[[Any], Awaitable[None]]:
    """The handler the scheduler's consumer of `topic` runs for each event."""
    return handler_spec(scheduler, topic).handler


def handler_spec(scheduler: Scheduler, topic: Topic) -> ConsumerSpec[Any]:
    [spec] = [s for s in scheduler.consumers if s.topic is topic]
    return spec


@asynccontextmanager
async def publisher(settings: ServiceSettings) -> AsyncIterator[Publisher]:
    pub = Publisher(settings)
    await pub.start()
    try:
        yield pub
    finally:
        await pub.stop()


class TopicReader:
    """Reads every message of some topics from the beginning, in the background."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"test-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        async for record in self._consumer:
            self.messages.append((record.topic, record.value or b""))

    def probes(self) -> list[tuple[str, ProbeRequestV1]]:
        return [
            (topic, ProbeRequestV1.model_validate_json(value))
            for topic, value in self.messages
            if ".probe.requests." in f".{topic}"
        ]


def lead(batch: str, row: int, e164: str, account: str = "acc_test") -> LeadAcceptedV1:
    return LeadAcceptedV1(
        account_id=account, batch_id=batch, lead_id=f"{batch}:{row:09d}", e164=e164, region="AU"
    )


async def send(pub: Publisher, topic: Topic, events: list[tuple[str, Event]]) -> None:
    await pub.publish_many(topic, events)


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)


async def make_request_topics(settings: SchedulerSettings, only: Collection[str] = ()) -> None:
    """Make the trunks' request topics (all, or the trunks named in `only`) with their lanes,
    as the scheduler and prober do at start (a lookup does not create a topic); for tests
    that read one before either runs."""
    trunks = load_trunks(settings.trunks_file)
    wanted = [t for t in trunks if not only or t.name in only]
    await ensure_topics(settings, [probe_requests(trunk) for trunk in wanted])


class StandInProber:
    """Consumes the trunks' request topics and answers each at once with a final verdict.

    Records when each batch's last lead was answered, and every request it saw.
    """

    def __init__(self, settings: SchedulerSettings, trunks: list[str]) -> None:
        self.settings = settings
        self._trunks = trunks
        self.requests: list[ProbeRequestV1] = []
        self.answered_at: dict[str, float] = {}
        self.first_at: dict[str, float] = {}
        self.per_batch: Counter[str] = Counter()
        self.answer = True
        self._consumer = AIOKafkaConsumer(
            *[settings.topic(f"probe.requests.{t}") for t in trunks],
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=f"stand-in-prober-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            metadata_max_age_ms=1000,
            fetch_max_wait_ms=20,
        )
        self._publisher = Publisher(settings)
        self._task: asyncio.Task[None] | None = None
        self.assigned = asyncio.Event()

    async def __aenter__(self) -> StandInProber:
        await make_request_topics(self.settings, only=self._trunks)
        await self._publisher.start()
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()
        await self._publisher.stop()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=500)
            verdicts = []
            for records in batches.values():
                for record in records:
                    probe = ProbeRequestV1.model_validate_json(record.value or b"")
                    self.requests.append(probe)
                    self.first_at.setdefault(probe.batch_id, time.monotonic())
                    if self.answer:
                        verdicts.append((probe.lead_id, final_verdict(probe)))
                        self.per_batch[probe.batch_id] += 1
                        self.answered_at[probe.batch_id] = time.monotonic()
            if verdicts:
                await self._publisher.publish_many(LEAD_VERDICTS, verdicts)


def final_verdict(probe: ProbeRequestV1, status: str = "connected") -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id=probe.account_id,
        batch_id=probe.batch_id,
        lead_id=probe.lead_id,
        probe_id=probe.probe_id,
        attempt=probe.attempt,
        status=status,  # type: ignore[arg-type]
        final=True,
        detail="SIP 180 Ringing",
        confidence=95,
        evidence=Evidence(trunk=probe.trunk, codes=[100, 180], tested_at=datetime.now(UTC)),
    )


@asynccontextmanager
async def stand_in_ingest(
    open_leads: list[dict[str, str]], token: str
) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """ingest's `GET /internal/v1/leads?open=true` on a free port; yields (url, calls)."""
    app = FastAPI()
    calls: list[dict[str, str]] = []
    ordered = sorted(open_leads, key=lambda lead: lead["lead_id"])

    @app.get("/internal/v1/leads")
    async def leads(
        open: str,
        limit: int,
        after: str | None = None,
        x_lc_internal_token: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        calls.append({"open": open, "after": after or "", "limit": str(limit)})
        if x_lc_internal_token != token:
            return JSONResponse({"error": {"code": "unauthorized", "message": "no"}}, 401)
        rest = [lead for lead in ordered if not after or lead["lead_id"] > after]
        page = rest[:limit]
        more = len(rest) > limit
        return JSONResponse({"leads": page, "next": page[-1]["lead_id"] if more else None})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}", calls
    finally:
        server.should_exit = True
        await task


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandInBilling:
    """billing's reservation API over real HTTP: credit per account (None: unlimited).

    Grants a reservation per lead while the account has credit (idempotent per
    lead), answers `settled` for leads in `settled`, releases a batch's
    reservations; `down` answers 503. Records every call.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.credit: dict[str, int | None] = {}
        self.reserved: dict[str, str] = {}
        self.settled: set[str] = set()
        self.releases: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.down = False
        self.app = FastAPI()
        self.app.post("/internal/v1/reservations")(self._reserve)
        self.app.post("/internal/v1/reservations/release")(self._release)

    def _refuse(self, request: Request) -> JSONResponse | None:
        if self.down:
            return JSONResponse({"error": {"code": "down", "message": "down"}}, 503)
        if request.headers.get("x-lc-internal-token") != self.token:
            return JSONResponse({"error": {"code": "unauthorized", "message": "no"}}, 401)
        return None

    async def _reserve(self, request: Request) -> JSONResponse:
        if (refused := self._refuse(request)) is not None:
            return refused
        body = await request.json()
        self.calls.append(body)
        account = body["account_id"]
        answer: dict[str, Any] = {"reserved": [], "refused": [], "settled": []}
        for item in body["leads"]:
            lead_id, left = item["lead_id"], self.credit.get(account)
            if lead_id in self.settled:
                answer["settled"].append(lead_id)
            elif lead_id in self.reserved:
                answer["reserved"].append(lead_id)
            elif left is None or left > 0:
                self.reserved[lead_id] = item["batch_id"]
                if left is not None:
                    self.credit[account] = left - 1
                answer["reserved"].append(lead_id)
            else:
                answer["refused"].append(lead_id)
        answer["available"] = self.credit.get(account) or 0
        return JSONResponse(answer)

    async def _release(self, request: Request) -> JSONResponse:
        if (refused := self._refuse(request)) is not None:
            return refused
        batch_id = (await request.json())["batch_id"]
        self.releases.append(batch_id)
        for lead_id in [k for k, b in self.reserved.items() if b == batch_id]:
            del self.reserved[lead_id]
        return JSONResponse({"released": True})


@asynccontextmanager
async def stand_in_billing(token: str) -> AsyncIterator[tuple[str, StandInBilling]]:
    """A billing stand-in on a free port; yields (url, stand-in)."""
    billing = StandInBilling(token)
    async with serving(billing.app, free_port()) as url:
        yield url, billing
