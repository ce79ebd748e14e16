"""Helpers for the notifier's integration tests: serve apps, stand-ins for gateway and ingest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, Header, HTTPException
from prometheus_client import REGISTRY

TOKEN = "dev-only-secret-change-me"


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (counters: take deltas)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def daily_runs() -> float:
    return sample("lc_notifier_daily_run_duration_seconds_count")


def consumed(topic: str, group: str, outcome: str = "ok") -> float:
    return sample("lc_events_consumed_total", topic=topic, group=group, outcome=outcome)


def _check(token: str | None) -> None:
    if token != TOKEN:
        raise HTTPException(401, "internal token required")


def gateway_app(accounts: dict[str, dict[str, Any]]) -> FastAPI:
    """The gateway's internal account lookup, and nothing else."""
    app = FastAPI()

    @app.get("/internal/v1/accounts/{account_id}")
    async def account(
        account_id: str, token: str | None = Header(None, alias="X-LC-Internal-Token")
    ) -> dict[str, Any]:
        _check(token)
        if account_id not in accounts:
            raise HTTPException(404, "no such account")
        return accounts[account_id]

    return app


@dataclass(frozen=True)
class ProcessedLead:
    """A lead as ingest's stand-in knows it: its batch and when its final verdict fell."""

    account_id: str
    batch_id: str
    name: str
    reference: str
    state: str
    processed_at: datetime


def ingest_app(
    batches: dict[str, dict[str, Any]], leads: list[ProcessedLead]
) -> tuple[FastAPI, list[tuple[str, str, str]]]:
    """Ingest's batch read and its daily listing, which honours `tz` as ingest does (C2):
    per batch, the account's leads whose final verdict fell on local date `date` in the
    IANA zone `tz` (default UTC). Also returns the (account, date, tz) asked for."""
    app = FastAPI()
    asked: list[tuple[str, str, str]] = []

    @app.get("/internal/v1/batches/{batch_id}")
    async def batch(
        batch_id: str,
        token: str | None = Header(None, alias="X-LC-Internal-Token"),
        account_id: str | None = Header(None, alias="X-LC-Account-Id"),
    ) -> dict[str, Any]:
        _check(token)
        found = batches.get(batch_id)
        if found is None or found["account_id"] != account_id:
            raise HTTPException(404, "no such batch")
        return found

    @app.get("/internal/v1/daily")
    async def daily_report(
        date: dt.date,
        tz: str = "UTC",
        token: str | None = Header(None, alias="X-LC-Internal-Token"),
        account_id: str | None = Header(None, alias="X-LC-Account-Id"),
    ) -> dict[str, Any]:
        _check(token)
        assert account_id is not None
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise HTTPException(422, "unknown time zone") from exc
        asked.append((account_id, date.isoformat(), tz))
        per_batch: dict[str, dict[str, Any]] = {}
        for lead in leads:
            if lead.account_id != account_id or lead.processed_at.astimezone(zone).date() != date:
                continue
            row = per_batch.setdefault(
                lead.batch_id,
                {
                    "batch_id": lead.batch_id,
                    "name": lead.name,
                    "reference": lead.reference,
                    "processed": 0,
                    "connected": 0,
                    "disconnected": 0,
                    "indeterminate": 0,
                },
            )
            row[lead.state] += 1
            row["processed"] += 1
        return {"date": date.isoformat(), "batches": [per_batch[b] for b in sorted(per_batch)]}

    return app, asked
