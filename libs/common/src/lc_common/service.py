"""The process around a service: HTTP surface, background workers, graceful stop.

Every service is a FastAPI app served by uvicorn. Its background work (Kafka
consumers, dispatch loops) runs as tasks in the same event loop, started in the
lifespan. If a worker dies the whole process stops with exit code 1 so the
supervisor (Kubernetes, honcho) restarts it: never a silent half-alive service.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lc_common.diagnostics import install_dump_signals
from lc_common.limits import (
    BodyLimitMiddleware,
    BodyTooLarge,
    LimitFor,
    render_body_too_large,
    service_body_limit,
)
from lc_common.settings import BodyLimitSettings, ServiceSettings

log = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]
ReadinessDetail = Callable[[], dict[str, object]]


class Workers:
    """Background tasks of a service; the first one to fail brings the process down."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failure: BaseException | None = None
        self.on_failure: Callable[[], None] | None = None

    def start(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine in the background under a name."""
        task = asyncio.create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(self._watch)

    def _watch(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            log.info("worker_finished", worker=task.get_name())
            return
        log.error("worker_crashed", worker=task.get_name(), error=repr(exc), exc_info=exc)
        if self.failure is None:
            self.failure = exc
            if self.on_failure is not None:
                self.on_failure()

    @property
    def alive(self) -> bool:
        """True while no worker has crashed."""
        return self.failure is None

    async def stop(self) -> None:
        """Cancel every worker and wait for them to finish their clean-up."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def health_router(
    workers: Workers, checks: list[ReadinessCheck], details: ReadinessDetail | None = None
) -> APIRouter:
    """`/healthz` (liveness), `/readyz` (peers answer) and `/metrics` (Prometheus).

    `details`, if given, adds service-specific fields (such as a role) to `/readyz`.
    """
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> Response:
        if not workers.alive:
            return JSONResponse({"status": "failed", "error": type(workers.failure).__name__}, 503)
        return JSONResponse({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        failed: dict[str, str] = {}
        for check in checks:
            reason = await _check_reason(check)
            if reason is not None:
                failed[_check_name(check)] = reason
        extra = details() if details else {}
        if failed:
            # A short reason per check, never the exception's text: it can carry
            # addresses, credentials in URIs or internals a prober has no need of.
            log.warning("not_ready", checks=failed)
            return JSONResponse({"status": "not ready", "checks": failed, **extra}, 503)
        return JSONResponse({"status": "ready", **extra})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


READINESS_TIMEOUT_SECONDS = 5.0


def _check_name(check: ReadinessCheck) -> str:
    return getattr(check, "__name__", "check")


async def _check_reason(check: ReadinessCheck) -> str | None:
    """None when the check passes; else a short reason: `timed out` or `unavailable`."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        return "timed out"
    except Exception as exc:
        log.warning("readiness_check_failed", check=_check_name(check), error=repr(exc))
        return "unavailable"
    return None


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app until SIGTERM/SIGINT; exit 1 if a background worker crashed.

    SIGUSR1 logs every asyncio task's stack (`lc_common.diagnostics`).
    """
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
    server = uvicorn.Server(config)
    workers: Workers = app.state.workers

    def stop_server() -> None:
        server.should_exit = True

    workers.on_failure = stop_server

    async def serve_with_dumps() -> None:
        install_dump_signals()
        await server.serve()

    asyncio.run(serve_with_dumps())
    if workers.failure is not None or not server.started:
        sys.exit(1)


def create_service_app(
    *,
    title: str,
    lifespan: Callable[[FastAPI], Any],
    workers: Workers,
    checks: list[ReadinessCheck],
    details: ReadinessDetail | None = None,
    body_limit: LimitFor | None = None,
    app_factory: Callable[..., FastAPI] = FastAPI,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with the shared health and metrics routes and a `Workers` group.

    Every request body is capped before the app reads it (`BodyLimitMiddleware`):
    by `body_limit` if given, else by `service_body_limit` over the `LC_MAX_*_BYTES`
    settings (64 KiB by default; internal calls 1 MiB; ingest's upload routes the
    upload cap). The layer wraps the `middleware` passed in `fastapi_kwargs`, so
    those never see an oversize body; middleware added to the app later wraps it.
    `app_factory` builds the app from the FastAPI arguments (FastAPI itself unless
    a service needs another, such as the gateway's docs served without a CDN).
    """
    app = app_factory(title=title, lifespan=lifespan, **fastapi_kwargs)
    limit_for = body_limit or service_body_limit(BodyLimitSettings())
    app.add_middleware(BodyLimitMiddleware, limit_for=limit_for)
    # Looked up by the exception's class first: wins over a service's HTTPException handler.
    app.add_exception_handler(BodyTooLarge, render_body_too_large)
    app.state.workers = workers
    app.include_router(health_router(workers, checks, details))
    return app
