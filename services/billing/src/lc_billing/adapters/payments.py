"""Stripe Checkout through the official `stripe` library: sessions out, signed events in.

The same code talks to Stripe in production and to the local simulator
(`lc_localstack.payments`) when `LC_STRIPE_API_BASE` points at it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import stripe
from stripe.params.checkout import SessionCreateParams

from lc_billing.metrics import CHECKOUT_SECONDS


@dataclass(frozen=True)
class CheckoutSession:
    """A session on the provider's hosted payment page."""

    id: str
    url: str


@dataclass(frozen=True)
class ProviderEvent:
    """A webhook event whose signature verified: its id, type and object."""

    id: str
    type: str
    object: dict[str, Any]


class ProviderError(Exception):
    """The provider refused or did not answer."""


class InvalidSignature(Exception):
    """A webhook whose `Stripe-Signature` does not verify (or a body that is no event)."""


def verify_event(payload: bytes, signature: str | None, secret: str) -> ProviderEvent:
    """The event in `payload` if `signature` is Stripe's for it under `secret` (within
    Stripe's five-minute tolerance); `InvalidSignature` otherwise."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidSignature(str(exc)) from exc
    data = event.to_dict()
    obj = data.get("data", {}).get("object")
    if not isinstance(obj, dict) or not data.get("id") or not data.get("type"):
        raise InvalidSignature("the signed body is not an event")
    return ProviderEvent(id=str(data["id"]), type=str(data["type"]), object=obj)


class StripeCheckout:
    """Creates Checkout Sessions (async, over httpx)."""

    def __init__(self, api_key: str, api_base: str | None = None, timeout: float = 10.0) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            # A retry of a creation is safe: it carries the purchase's idempotency key.
            max_network_retries=2,
        )

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_checkout_session(
        self, params: dict[str, Any], idempotency_key: str
    ) -> CheckoutSession:
        """Create the session described by `params` (domain.checkout_params); the same
        `idempotency_key` always yields the same session. Card details stay with Stripe."""
        started = time.perf_counter()
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params=cast(SessionCreateParams, params),
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"checkout session not created: {exc!r}") from exc
        finally:
            CHECKOUT_SECONDS.observe(time.perf_counter() - started)
        if not session.url:
            raise ProviderError(f"checkout session {session.id} has no hosted page")
        return CheckoutSession(id=session.id, url=session.url)
