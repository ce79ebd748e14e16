"""Helpers of the prober's integration tests: a trunks file, requests, a running prober,
topic readers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from lc_common.events import ProbeRequestV1, ProbeSignallingV1
from lc_common.kafka import Publisher
from lc_common.service import Workers
from lc_common.settings import ServiceSettings
from lc_prober.bootstrap import ProberRuntime, build
from lc_prober.config import ProberSettings


def write_trunks(path: Path, port: int, *, channels: int, cps: float, **extra: Any) -> Path:
    """A trunks file with one trunk, `sim`, towards the simulator on 127.0.0.1:port."""
    options = "".join(f", {k}: {v}" for k, v in extra.items())
    path.write_text(
        f"- {{name: sim, host: 127.0.0.1, port: {port}, transport: udp, "
        f"channels: {channels}, cps: {cps}{options}}}\n"
    )
    return path


def request(i: int, **fields: Any) -> ProbeRequestV1:
    """A probe request for trunk `sim`: lead `bat:<i>`, number +6140000<i>, a fresh probe id."""
    values: dict[str, Any] = {
        "account_id": "acc",
        "batch_id": "bat",
        "lead_id": f"bat:{i:05d}",
        "probe_id": f"prb_{uuid.uuid4().hex[:8]}",
        "e164": f"+6140000{i:04d}",
        "attempt": 1,
        "trunk": "sim",
        **fields,
    }
    return ProbeRequestV1(**values)


async def publish(settings: ServiceSettings, requests: list[ProbeRequestV1]) -> None:
    """Publish requests on `probe.requests.sim`, keyed by lead id like the scheduler."""
    publisher = Publisher(settings)
    await publisher.start()
    try:
        await publisher.publish_many("probe.requests.sim", [(r.lead_id, r) for r in requests])
    finally:
        await publisher.stop()


def signalled(reader: TopicReader) -> list[ProbeSignallingV1]:
    """Every signalling event a reader of `probe.signalling` has seen."""
    return [ProbeSignallingV1.model_validate_json(r.value) for r in reader.records]


def lead_ids(reader: TopicReader) -> set[str]:
    """The lead ids of every signalling event seen."""
    return {event.lead_id for event in signalled(reader)}


@asynccontextmanager
async def running_prober(
    settings: ProberSettings, publisher: Publisher | None = None
) -> AsyncIterator[ProberRuntime]:
    """A prober runtime (the service without its HTTP surface) until the block ends
    (a graceful stop, as on SIGTERM)."""
    workers = Workers()
    async with build(settings, workers, publisher=publisher) as runtime:
        yield runtime
    if workers.failure is not None:
        raise AssertionError(f"a prober worker crashed: {workers.failure!r}")


class TopicReader:
    """Reads everything published on a topic (from the start) in the background."""

    def __init__(self, settings: ServiceSettings, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            settings.topic(topic),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.records: list[Any] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                self.records.extend(records)

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()
