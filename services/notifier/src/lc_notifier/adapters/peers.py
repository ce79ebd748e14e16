"""Clients of the peers the notifier reads from: gateway (accounts) and ingest (batches)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from lc_common.http import ACCOUNT_HEADER, pooled_client
from lc_notifier.emails import Account


class PeerNotFound(Exception):
    """The peer answered that the account or batch does not exist (any more)."""


class PeerError(Exception):
    """The peer did not answer as it should (down, timeout, 5xx): worth retrying later."""


class Peers:
    """Internal HTTP calls, each with the internal token and, where needed, the account."""

    def __init__(self, gateway_url: str, ingest_url: str, token: str, timeout: float) -> None:
        self._gateway = pooled_client(gateway_url, timeout, token)
        self._ingest = pooled_client(ingest_url, timeout, token)

    async def close(self) -> None:
        await self._gateway.aclose()
        await self._ingest.aclose()

    async def _get(
        self,
        client: httpx.AsyncClient,
        path: str,
        account_id: str,
        params: dict[str, str] | None = None,
    ) -> Any:
        try:
            response = await client.get(path, params=params, headers={ACCOUNT_HEADER: account_id})
        except httpx.HTTPError as exc:
            raise PeerError(f"{client.base_url}{path}: {exc!r}") from exc
        if response.status_code in (404, 410):
            raise PeerNotFound(f"{client.base_url}{path}: {response.status_code}")
        if response.status_code != 200:
            raise PeerError(f"{client.base_url}{path}: {response.status_code}")
        return response.json()

    async def account(self, account_id: str) -> Account:
        body = await self._get(self._gateway, f"/internal/v1/accounts/{account_id}", account_id)
        return Account(
            id=str(body["id"]),
            name=str(body.get("name") or ""),
            email=str(body["email"]),
            time_zone=str(body.get("time_zone") or "UTC"),
        )

    async def batch(self, account_id: str, batch_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self._get(
            self._ingest, f"/internal/v1/batches/{batch_id}", account_id
        )
        return body

    async def daily(self, account_id: str, day: date, tz: str) -> list[dict[str, Any]]:
        """The account's batches with leads processed on the local date `day` in the IANA
        zone `tz`, with their counts (C2: ingest's `GET /internal/v1/daily?date=&tz=`)."""
        body = await self._get(
            self._ingest,
            "/internal/v1/daily",
            account_id,
            {"date": day.isoformat(), "tz": tz},
        )
        return list(body.get("batches", []))
