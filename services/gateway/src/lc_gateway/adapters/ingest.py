"""The ingest service's internal API: imports, batches, pause and downloads."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

import httpx

from lc_gateway.adapters.upstream import Upstream

# An upload may take ingest a while to take in before it answers.
UPLOAD_TIMEOUT_SECONDS = 300.0


class IngestClient:
    """Calls ingest on behalf of one account at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def preview(
        self, account_id: str, body: AsyncIterable[bytes], content_type: str
    ) -> dict[str, Any]:
        """Forward a multipart body (`file`, overrides, `phone_column`) as-is; ingest's preview.

        With `phone_column` the answer has a `dry_run` over the whole file (contract C1).
        """
        result: dict[str, Any] = await self._upstream.call(
            "POST",
            "/internal/v1/imports/preview",
            account_id,
            content=body,
            content_type=content_type,
            read_timeout=UPLOAD_TIMEOUT_SECONDS,
        )
        return result

    async def create_batch(
        self, account_id: str, body: AsyncIterable[bytes], content_type: str
    ) -> dict[str, Any]:
        """Forward a multipart body (`file`, `name`, ...) as-is; the new batch."""
        result: dict[str, Any] = await self._upstream.call(
            "POST",
            "/internal/v1/batches",
            account_id,
            content=body,
            content_type=content_type,
            read_timeout=UPLOAD_TIMEOUT_SECONDS,
        )
        return result

    async def list_batches(self, account_id: str) -> list[dict[str, Any]]:
        """The account's batches, newest first."""
        result = await self._upstream.call("GET", "/internal/v1/batches", account_id)
        batches: list[dict[str, Any]] = result.get("batches", [])
        return batches

    async def get_batch(self, account_id: str, batch_id: str) -> dict[str, Any]:
        """One of the account's batches (404 for a foreign or missing one)."""
        result: dict[str, Any] = await self._upstream.call(
            "GET", f"/internal/v1/batches/{batch_id}", account_id
        )
        return result

    async def set_paused(self, account_id: str, batch_id: str, paused: bool) -> dict[str, Any]:
        """Pause or unpause a batch; the batch as it is now."""
        result: dict[str, Any] = await self._upstream.call(
            "PATCH", f"/internal/v1/batches/{batch_id}", account_id, json={"paused": paused}
        )
        return result

    async def open_download(
        self, account_id: str, batch_id: str, processed_on: str | None, tz: str | None = None
    ) -> httpx.Response:
        """The download response with its CSV body still to be streamed; `aclose()` it.

        `processed_on` is a local date in the IANA zone `tz` (ingest's default: UTC).
        """
        params = {"processed_on": processed_on} if processed_on else {}
        if processed_on and tz:
            params["tz"] = tz
        return await self._upstream.open_stream(
            "GET", f"/internal/v1/batches/{batch_id}/download", account_id, params=params or None
        )
