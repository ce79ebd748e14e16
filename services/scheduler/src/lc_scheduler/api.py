"""The scheduler's internal HTTP API: re-drive (`/internal/v1/redrive`), leader only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from lc_common.http import InternalCaller, ServiceError
from lc_scheduler.bootstrap import Scheduler


def _leader(request: Request) -> Scheduler:
    """The running scheduler; 409 `standby` on a replica waiting for the lease."""
    scheduler: Scheduler | None = getattr(request.app.state, "scheduler", None)
    if scheduler is None:
        raise ServiceError(409, "standby", "this replica is standing by; ask the leader")
    return scheduler


Leader = Annotated[Scheduler, Depends(_leader)]


def internal_router() -> APIRouter:
    """`POST /internal/v1/redrive` starts a re-drive; `GET` tells how the last one went."""
    router = APIRouter(prefix="/internal/v1", dependencies=[InternalCaller])

    @router.post("/redrive", status_code=202)
    async def start_redrive(scheduler: Leader) -> dict[str, object]:
        started = scheduler.redriver.start()
        return {"started": started, "last": _jsonable(scheduler)}

    @router.get("/redrive")
    async def redrive_status(scheduler: Leader) -> dict[str, object]:
        return {"last": _jsonable(scheduler)}

    return router


def _jsonable(scheduler: Scheduler) -> dict[str, object]:
    result = asdict(scheduler.redriver.last)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in result.items()}
