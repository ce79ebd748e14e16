"""Helpers for the notifier's integration tests: serve apps, stand-ins for gateway and ingest."""

from __future__ import annotations

from typing import Any

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


def ingest_app(
    batches: dict[str, dict[str, Any]], daily: dict[tuple[str, str], list[dict[str, Any]]]
) -> tuple[FastAPI, list[tuple[str, str]]]:
    """Ingest's batch and daily reads; also returns the (account, date) pairs asked for."""
    app = FastAPI()
    asked: list[tuple[str, str]] = []

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
        date: str,
        token: str | None = Header(None, alias="X-LC-Internal-Token"),
        account_id: str | None = Header(None, alias="X-LC-Account-Id"),
    ) -> dict[str, Any]:
        _check(token)
        assert account_id is not None
        asked.append((account_id, date))
        return {"date": date, "batches": daily.get((account_id, date), [])}

    return app, asked
