"""Helpers for billing's integration tests: serve an app, read a topic, make verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer

from lc_common.events import CreditEventV1, Evidence, LeadVerdictV1
from lc_common.settings import ServiceSettings


async def read_topic(
    settings: ServiceSettings,
    topic: str,
    until: Callable[[list[bytes]], bool],
    within: float = 30.0,
) -> list[bytes]:
    """Values on a topic (from the start) once `until` holds for them; TimeoutError otherwise."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(within):
            while not until(values):
                batches = await consumer.getmany(timeout_ms=200)
                values.extend(r.value or b"" for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()
    return values


def verdict(
    account_id: str,
    batch_id: str,
    row: int,
    *,
    final: bool = True,
    attempt: int = 1,
    chargeable: bool | None = None,
) -> LeadVerdictV1:
    """A verdict for row `row` of the batch; a final one is chargeable unless told."""
    lead_id = f"{batch_id}:{row:09d}"
    return LeadVerdictV1(
        account_id=account_id,
        batch_id=batch_id,
        lead_id=lead_id,
        probe_id=f"prb_{row}_{attempt}",
        attempt=attempt,
        status="connected" if final else "indeterminate",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=datetime.now(UTC)),
        chargeable=final if chargeable is None else chargeable,
    )


def headers(settings: ServiceSettings, account_id: str) -> dict[str, str]:
    """The internal API's headers for one account."""
    return {
        "X-LC-Internal-Token": settings.internal_token.get_secret_value(),
        "X-LC-Account-Id": account_id,
    }


def credit_events(values: list[bytes]) -> list[CreditEventV1]:
    return [CreditEventV1.model_validate_json(v) for v in values]
