"""The control panel: server-rendered pages for people, beside the API for scripts."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from lc_gateway.api.errors import error_response
from lc_gateway.edge.auth import get_gateway, session_account
from lc_gateway.errors import GatewayError
from lc_gateway.panel import auth, batches, billing, imports, keys, webhooks
from lc_gateway.panel.common import HERE, LoginRequired, redirect, render

_MACHINE_PREFIXES = ("/api/", "/internal/")


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect(f"/login?next={quote(exc.next_path, safe='/')}")


async def _gateway_error(request: Request, exc: Exception) -> Response:
    """JSON for the API and for page scripts; an HTML page for people."""
    assert isinstance(exc, GatewayError)
    path = request.url.path
    if path.startswith(_MACHINE_PREFIXES) or request.headers.get("x-requested-with") == "fetch":
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    account = await session_account(request, get_gateway(request))
    context = {"code": exc.code, "message": exc.message, "status": exc.status}
    page = render(request, "error.html", context, account=account, status_code=exc.status)
    page.headers.update(exc.headers)
    return page


def install(app: FastAPI) -> None:
    """Add the panel's pages, static files and error pages to the app."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, batches, imports, billing, keys, webhooks):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(GatewayError, _gateway_error)
