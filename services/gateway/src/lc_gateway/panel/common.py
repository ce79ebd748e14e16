"""What every control panel page shares: templates, the login check, CSRF, flashes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from lc_gateway.domain.accounts import Account
from lc_gateway.edge import csrf
from lc_gateway.edge.auth import get_gateway, session_account
from lc_gateway.errors import CsrfFailed

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Panel pages load nothing from elsewhere; scripts and styles come from /static only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'"
)

STATUS_LABELS = {
    "importing": "Importing",
    "queued": "Queued",
    "running": "Running",
    "paused": "Paused",
    "paused_no_credit": "Paused (no credit)",
    "finished": "Finished",
    "failed": "Failed",
    "deleted": "Deleted",
}


class LoginRequired(Exception):
    """The page needs a logged-in user; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def panel_account(request: Request) -> Account:
    """The logged-in user's account; otherwise `LoginRequired`."""
    account = await session_account(request, get_gateway(request))
    if account is None:
        query = request.url.query
        raise LoginRequired(request.url.path + (f"?{query}" if query else ""))
    return account


PanelAccount = Annotated[Account, Depends(panel_account)]


def safe_next(value: str | None) -> str:
    """A local path to go to after login (an email's link); anything else becomes /batches.

    Local means starting with one `/`: not `//` or `/\\` (another host to a browser), and
    no backslash, space or control character anywhere (browsers drop tabs and newlines
    from a URL, so a tab between two slashes would make another host).
    """
    if not value or len(value) > 2000 or not value.startswith("/"):
        return "/batches"
    if value.startswith("//") or any(c == "\\" or c.isspace() or ord(c) < 32 for c in value):
        return "/batches"
    return value


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form's text fields, after checking its CSRF token (403 otherwise)."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if not csrf.token_valid(request.session, fields.get(csrf.FORM_FIELD)):
        raise CsrfFailed("This form has expired; reload the page and try again.")
    return fields


def check_token(request: Request, form_token: str | None) -> None:
    """CSRF check for a streamed form: the token comes in the header or the form's first field.

    Never in the URL, where history, Referer headers and logs would keep it.
    """
    submitted = request.headers.get(csrf.HEADER) or form_token
    if not csrf.token_valid(request.session, submitted):
        raise CsrfFailed("This form has expired; reload the page and try again.")


def flash(request: Request, kind: str, message: str) -> None:
    """A message shown once, on the next page rendered."""
    request.session.setdefault("flash", []).append([kind, message])


def redirect(path: str) -> RedirectResponse:
    """See-other redirect (after a POST, the browser GETs the target)."""
    return RedirectResponse(path, status_code=303)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    account: Account | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A full page, with the account, CSRF token and pending flashes in its context."""
    page: dict[str, Any] = {
        "account": account,
        "csrf_token": csrf.session_token(request.session),
        "flashes": request.session.pop("flash", []),
        "status_labels": STATUS_LABELS,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def local_time(value: Any, time_zone: str = "UTC") -> str:
    """An ISO 8601 time (string or datetime) shown in the account's time zone."""
    if value in (None, ""):
        return "—"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


templates.env.filters["local_time"] = local_time
