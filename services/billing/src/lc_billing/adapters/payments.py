"""The payment provider's API: create a hosted checkout session for a purchase."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from lc_billing.metrics import CHECKOUT_SECONDS


@dataclass(frozen=True)
class CheckoutSession:
    """A session on the provider's hosted payment page."""

    id: str
    url: str


class ProviderError(Exception):
    """The provider refused or did not answer."""


class PaymentProvider:
    """HTTP client of the provider (`lc_localstack.payments` locally)."""

    def __init__(self, base_url: str, webhook_url: str, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._webhook_url = webhook_url

    async def close(self) -> None:
        await self._http.aclose()

    async def create_checkout_session(
        self, *, purchase_id: str, units: int, amount_cents: int, currency: str, return_url: str
    ) -> CheckoutSession:
        """Ask for a hosted page where the client pays; card details stay with the provider."""
        started = time.perf_counter()
        try:
            response = await self._http.post(
                "/v1/checkout/sessions",
                json={
                    "purchase_id": purchase_id,
                    "units": units,
                    "amount_cents": amount_cents,
                    "currency": currency,
                    "return_url": return_url,
                    "webhook_url": self._webhook_url,
                },
            )
            response.raise_for_status()
            body = response.json()
            return CheckoutSession(id=str(body["id"]), url=str(body["url"]))
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise ProviderError(f"checkout session not created: {exc!r}") from exc
        finally:
            CHECKOUT_SECONDS.observe(time.perf_counter() - started)
