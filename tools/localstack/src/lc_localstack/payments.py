"""A payment provider simulator: hosted checkout pages and signed webhooks.

Stands in for a real provider locally and in tests. Billing creates a checkout
session; the client's browser opens the hosted page, types a card number (kept
here, never sent on) and presses Pay or Cancel; the simulator then posts a
webhook signed with HMAC-SHA256 (hex, header `X-Payment-Signature`) of the raw
body to the session's `webhook_url`, and redirects the browser to `return_url`.

Run it with `python -m lc_localstack.payments --port 8007`. The shared secret is
`LC_PAYMENT_WEBHOOK_SECRET` (default: the development secret).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from lc_common.settings import DEV_SECRET

SessionStatus = Literal["open", "paid", "cancelled"]


class CheckoutRequest(BaseModel):
    purchase_id: str
    units: int = Field(gt=0)
    amount_cents: int = Field(ge=0)
    currency: str = "AUD"
    return_url: str
    webhook_url: str


@dataclass
class CheckoutSession:
    id: str
    request: CheckoutRequest
    status: SessionStatus = "open"
    last_webhook: bytes | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    card_last4: str | None = None


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of the body: what the receiver recomputes to trust the webhook."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def create_app(secret: str | None = None, public_url: str | None = None) -> FastAPI:
    """The simulator app. `public_url` is where browsers reach it (default: the request's)."""
    webhook_secret = secret or os.environ.get("LC_PAYMENT_WEBHOOK_SECRET", DEV_SECRET)
    sessions: dict[str, CheckoutSession] = {}
    app = FastAPI(title="Payment provider simulator")

    def find(session_id: str) -> CheckoutSession:
        session = sessions.get(session_id)
        if session is None:
            raise HTTPException(404, "no such checkout session")
        return session

    async def deliver(session: CheckoutSession) -> dict[str, Any]:
        body = session.last_webhook or b""
        headers = {
            "Content-Type": "application/json",
            "X-Payment-Signature": sign(body, webhook_secret),
        }
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(
                    session.request.webhook_url, content=body, headers=headers
                )
            delivery: dict[str, Any] = {"status_code": response.status_code}
        except httpx.HTTPError as exc:
            delivery = {"error": repr(exc)}
        session.deliveries.append(delivery)
        return delivery

    async def finish(session: CheckoutSession, status: SessionStatus) -> RedirectResponse:
        if session.status == "open":
            session.status = status
            event = "checkout.completed" if status == "paid" else "checkout.cancelled"
            payload = {
                "id": f"evt_{secrets.token_hex(8)}",
                "type": event,
                "session_id": session.id,
                "purchase_id": session.request.purchase_id,
                "units": session.request.units,
                "amount_cents": session.request.amount_cents,
                "currency": session.request.currency,
            }
            session.last_webhook = json.dumps(payload).encode()
            await deliver(session)
        target = httpx.URL(session.request.return_url).copy_merge_params(
            {"purchase_id": session.request.purchase_id, "status": session.status}
        )
        return RedirectResponse(str(target), status_code=303)

    @app.post("/v1/checkout/sessions", status_code=201)
    async def create_session(body: CheckoutRequest, request: Request) -> dict[str, str]:
        session = CheckoutSession(id=f"cs_{secrets.token_hex(10)}", request=body)
        sessions[session.id] = session
        base = (public_url or str(request.base_url)).rstrip("/")
        return {"id": session.id, "url": f"{base}/checkout/{session.id}"}

    @app.get("/v1/checkout/sessions/{session_id}")
    async def get_session(session_id: str) -> dict[str, Any]:
        session = find(session_id)
        return {
            "id": session.id,
            "status": session.status,
            "purchase_id": session.request.purchase_id,
            "deliveries": session.deliveries,
        }

    @app.post("/v1/checkout/sessions/{session_id}/webhook/resend")
    async def resend(session_id: str) -> dict[str, Any]:
        """Deliver the last webhook again, as a provider's 'resend event' button does."""
        session = find(session_id)
        if session.last_webhook is None:
            raise HTTPException(409, "nothing was sent for this session yet")
        return await deliver(session)

    @app.get("/checkout/{session_id}", response_class=HTMLResponse)
    async def checkout_page(session_id: str) -> str:
        session = find(session_id)
        req = session.request
        amount = f"{req.amount_cents / 100:.2f} {html.escape(req.currency)}"
        if session.status != "open":
            return f"<!doctype html><p>This checkout is {session.status}.</p>"
        return f"""<!doctype html>
<html><head><title>Pay {amount}</title></head>
<body>
<h1>Buy {req.units} Cleansing Units</h1>
<p>Total: <strong>{amount}</strong></p>
<form method="post" action="/checkout/{session.id}/pay">
  <label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number"
    value="4242 4242 4242 4242"></label>
  <button type="submit">Pay</button>
</form>
<form method="post" action="/checkout/{session.id}/cancel">
  <button type="submit">Cancel</button>
</form>
</body></html>"""

    @app.post("/checkout/{session_id}/pay")
    async def pay(session_id: str, card_number: str = Form("")) -> RedirectResponse:
        session = find(session_id)
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if len(digits) < 12:
            raise HTTPException(422, "enter a card number")
        session.card_last4 = digits[-4:]  # the card stays with the provider
        return await finish(session, "paid")

    @app.post("/checkout/{session_id}/cancel")
    async def cancel(session_id: str) -> RedirectResponse:
        return await finish(find(session_id), "cancelled")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Payment provider simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8007)
    parser.add_argument("--public-url", default=None, help="where browsers reach this server")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(public_url=args.public_url), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
