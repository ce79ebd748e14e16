"""The classifier's HTTP surface, on Faust's web server: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from typing import cast

import faust
from aiohttp.web import Response as AioResponse
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def install_pages(app: faust.App) -> None:
    """Serve health (503 once the app crashed), readiness (consuming, not rebalancing or
    recovering) and the Prometheus metrics on `app`'s web server."""

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        if app.crash_reason is not None:
            return self.json({"status": "failed", "error": repr(app.crash_reason)}, status=503)
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        # Ready once it consumes: a replica beyond the partition count stays unready.
        problems = []
        if app.rebalancing:
            problems.append("rebalancing")
        if app.in_recovery:
            problems.append("recovering tables")
        if not app.consumer.assignment():
            problems.append("no partitions assigned")
        if problems:
            return self.json({"status": "not ready", "error": ", ".join(problems)}, status=503)
        return self.json({"status": "ready"})

    @app.page("/metrics")
    async def prometheus(self: View, request: Request) -> Response:
        body = generate_latest()
        return cast(Response, AioResponse(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST}))
