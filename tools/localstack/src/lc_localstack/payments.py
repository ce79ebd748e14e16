"""A payment provider simulator speaking the subset of Stripe's API that billing uses.

Billing talks to it through the official `stripe` library with the API base
pointed here, so the code that runs locally is the code that runs against Stripe:

- `POST /v1/checkout/sessions` (form-encoded, `Authorization: Bearer sk_test_...`,
  `Idempotency-Key` honoured: the same key answers the same session) and
  `GET /v1/checkout/sessions/{id}`; `POST /v1/checkout/sessions/{id}/expire`.
- The hosted page `/c/pay/{id}` shows what is bought and its total, with Pay and
  Cancel. Pay (and only Pay: nothing is ever charged by itself) completes the
  session, posts a `checkout.session.completed` event signed like Stripe
  (`Stripe-Signature`) to the webhook URL, and redirects to `success_url`.
  Cancel redirects to `cancel_url` and leaves the session open, as Stripe does.
- `POST /_simulator/events/{id}/resend` delivers an event again (the dashboard's
  "Resend"), so replays can be tested.

Run it with `python -m lc_localstack.payments --port 8007`; the API key it accepts,
the webhook secret and the webhook URL come from `LC_STRIPE_API_KEY`,
`LC_STRIPE_WEBHOOK_SECRET` and `LC_STRIPE_WEBHOOK_URL` (local defaults otherwise).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from lc_localstack.stripe_wire import (
    FormError,
    amount_total,
    decode_form,
    event,
    new_id,
    signature_header,
)

LOCAL_API_KEY = "sk_test_lc_local_simulator"
LOCAL_WEBHOOK_SECRET = "whsec_lc_local_simulator_dev_only"
LOCAL_WEBHOOK_URL = "http://127.0.0.1:8005/webhooks/payments"
SESSION_LIFETIME_SECONDS = 24 * 3600


class StripeError(Exception):
    """Answered in Stripe's error shape `{"error": {"type", "message", "code"?}}`."""

    def __init__(self, status: int, kind: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.code = status, kind, message, code

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
        return JSONResponse({"error": error}, status_code=self.status)


@dataclass
class Delivery:
    """One post of an event to the webhook URL and what the receiver answered."""

    event_id: str
    status_code: int | None
    error: str | None = None


@dataclass
class Simulator:
    """The provider's state: sessions, the idempotency keys seen, the events sent."""

    api_key: str
    webhook_secret: str
    webhook_url: str
    public_url: str | None = None
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    line_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    idempotent: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    events: dict[str, bytes] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)

    def authorize(self, request: Request) -> None:
        """The secret key as Bearer (the library) or Basic user (`curl -u sk_test_...:`)."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key.startswith("sk_test_"):
            raise StripeError(401, "invalid_request_error", "Invalid API Key provided")
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise StripeError(401, "invalid_request_error", "Invalid API Key provided")

    def session(self, session_id: str) -> dict[str, Any]:
        found = self.sessions.get(session_id)
        if found is None:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such checkout.session: '{session_id}'",
                "resource_missing",
            )
        return found

    def create(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A new open session from the creation parameters (what `mode=payment` needs)."""
        if params.get("mode") != "payment":
            raise StripeError(400, "invalid_request_error", "only mode=payment is simulated")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "invalid_request_error", "line_items is required")
        if not params.get("success_url"):
            raise StripeError(400, "invalid_request_error", "success_url is required")
        try:
            total = amount_total(items)
            currency = str(items[0]["price_data"]["currency"]).lower()
        except (KeyError, TypeError, ValueError) as exc:
            raise StripeError(400, "invalid_request_error", f"bad line_items: {exc}") from exc
        now = int(time.time())
        session_id = new_id("cs_test")
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currency,
            "expires_at": now + SESSION_LIFETIME_SECONDS,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params["success_url"],
            "url": f"{(self.public_url or base_url).rstrip('/')}/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        return session

    async def deliver(self, event_id: str) -> Delivery:
        """Post the stored event, signed now; Stripe signs every attempt afresh."""
        payload = self.events[event_id]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(payload, self.webhook_secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.post(self.webhook_url, content=payload, headers=headers)
            delivery = Delivery(event_id, answer.status_code)
        except httpx.HTTPError as exc:
            delivery = Delivery(event_id, None, repr(exc))
        self.deliveries.append(delivery)
        return delivery

    async def emit(self, kind: str, session: dict[str, Any]) -> Delivery:
        body = event(kind, dict(session), int(time.time()))
        self.events[body["id"]] = json.dumps(body).encode()
        return await self.deliver(body["id"])


def _params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _success_url(session: dict[str, Any]) -> str:
    # Stripe fills the template so the return page can name the session it came from.
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _money(cents: int, currency: str) -> str:
    return f"{currency.upper()} {cents / 100:,.2f}"


def _page(sim: Simulator, session: dict[str, Any]) -> str:
    if session["status"] != "open":
        return f"<!doctype html><p>This checkout session is {html.escape(session['status'])}.</p>"
    rows = []
    for item in sim.line_items[session["id"]]:
        price = item["price_data"]
        name = html.escape(str(price.get("product_data", {}).get("name", "Item")))
        each = _money(int(price["unit_amount"]), session["currency"])
        quantity = int(item.get("quantity", 1))
        rows.append(f"<tr><td>{name}</td><td>{quantity:,}</td><td>{each}</td></tr>")
    total = _money(session["amount_total"], session["currency"])
    pay = f"/c/pay/{session['id']}"
    return f"""<!doctype html>
<html><head><title>Pay {total}</title></head>
<body>
<h1>Checkout (test mode)</h1>
<table><thead><tr><th>Item</th><th>Quantity</th><th>Unit price</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p>Total: <strong id="amount-total">{total}</strong></p>
<form method="post" action="{pay}">
  <label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number"
    value="4242 4242 4242 4242"></label>
  <button type="submit" id="pay">Pay {total}</button>
</form>
<form method="post" action="{pay}/cancel"><button type="submit" id="cancel">Cancel</button></form>
</body></html>"""


def create_app(
    api_key: str | None = None,
    webhook_secret: str | None = None,
    webhook_url: str | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """The simulator app. `public_url` is where browsers reach it (default: the request's)."""
    sim = Simulator(
        api_key=api_key or os.environ.get("LC_STRIPE_API_KEY", LOCAL_API_KEY),
        webhook_secret=webhook_secret
        or os.environ.get("LC_STRIPE_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET),
        webhook_url=webhook_url or os.environ.get("LC_STRIPE_WEBHOOK_URL", LOCAL_WEBHOOK_URL),
        public_url=public_url,
    )
    app = FastAPI(title="Payment provider simulator (Stripe subset)")
    app.state.simulator = sim

    @app.exception_handler(StripeError)
    async def stripe_error(_: Request, exc: StripeError) -> JSONResponse:
        return exc.response()

    @app.post("/v1/checkout/sessions")
    async def create_session(request: Request) -> dict[str, Any]:
        sim.authorize(request)
        try:
            params = decode_form(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        except (FormError, UnicodeDecodeError) as exc:
            raise StripeError(400, "invalid_request_error", str(exc)) from exc
        key = request.headers.get("idempotency-key")
        if key is not None and key in sim.idempotent:
            seen_hash, first = sim.idempotent[key]
            if seen_hash != _params_hash(params):
                raise StripeError(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters",
                )
            return first
        session = sim.create(params, str(request.base_url))
        if key is not None:
            sim.idempotent[key] = (_params_hash(params), dict(session))
        return session

    @app.get("/v1/checkout/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> dict[str, Any]:
        sim.authorize(request)
        return sim.session(session_id)

    @app.post("/v1/checkout/sessions/{session_id}/expire")
    async def expire(session_id: str, request: Request) -> dict[str, Any]:
        sim.authorize(request)
        session = sim.session(session_id)
        if session["status"] != "open":
            raise StripeError(400, "invalid_request_error", "only an open session can expire")
        session["status"] = "expired"
        await sim.emit("checkout.session.expired", session)
        return session

    @app.get("/c/pay/{session_id}", response_class=HTMLResponse)
    async def hosted_page(session_id: str) -> str:
        return _page(sim, sim.session(session_id))

    @app.post("/c/pay/{session_id}")
    async def pay(session_id: str, request: Request) -> Response:
        session = sim.session(session_id)
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        digits = "".join(ch for ch in form.get("card_number", "") if ch.isdigit())
        if session["status"] == "open":
            if len(digits) < 12:
                return HTMLResponse("<!doctype html><p>Enter a card number.</p>", 422)
            # The card stays here, with the provider: nothing of it is sent on.
            session.update(status="complete", payment_status="paid", payment_intent=new_id("pi"))
            await sim.emit("checkout.session.completed", session)
        elif session["status"] != "complete":
            return HTMLResponse(_page(sim, session), 409)
        return RedirectResponse(_success_url(session), status_code=303)

    @app.post("/c/pay/{session_id}/cancel")
    async def cancel(session_id: str) -> Response:
        session = sim.session(session_id)
        return RedirectResponse(str(session.get("cancel_url") or "/"), status_code=303)

    @app.post("/_simulator/events/{event_id}/resend")
    async def resend(event_id: str) -> dict[str, Any]:
        """Deliver a sent event again, as the dashboard's Resend does (tests replays)."""
        if event_id not in sim.events:
            raise StripeError(404, "invalid_request_error", f"No such event: '{event_id}'")
        delivery = await sim.deliver(event_id)
        return {"event_id": event_id, "status_code": delivery.status_code}

    @app.get("/_simulator/events")
    async def sent_events() -> dict[str, Any]:
        """Every event sent, oldest first, with what the webhook answered each time."""
        return {
            "events": [json.loads(body) for body in sim.events.values()],
            "deliveries": [vars(d) for d in sim.deliveries],
        }

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Payment provider simulator (Stripe subset)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8007)
    parser.add_argument("--public-url", default=None, help="where browsers reach this server")
    parser.add_argument("--webhook-url", default=None, help="where events are posted")
    args = parser.parse_args(argv)
    app = create_app(webhook_url=args.webhook_url, public_url=args.public_url)
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
