"""The notifier's internal API: the account's webhook endpoints and their deliveries."""

from __future__ import annotations

from typing import Any

from lc_gateway.adapters.upstream import Upstream


class NotifierClient:
    """Calls the notifier on behalf of one account at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self._upstream = upstream

    async def create_webhook(self, account_id: str, url: str, events: list[str]) -> dict[str, Any]:
        """Register an endpoint: `{"id", "url", "events", "created_at", "secret"}` (the only
        answer that carries the secret). A URL refused as a target: 422 `bad_webhook_url`."""
        result: dict[str, Any] = await self._upstream.call(
            "POST", "/internal/v1/webhooks", account_id, json={"url": url, "events": events}
        )
        return result

    async def webhooks(self, account_id: str) -> list[dict[str, Any]]:
        result = await self._upstream.call("GET", "/internal/v1/webhooks", account_id)
        webhooks: list[dict[str, Any]] = result.get("webhooks", [])
        return webhooks

    async def delete_webhook(self, account_id: str, webhook_id: str) -> None:
        """Remove the account's endpoint; another account's answers 404 `webhook_not_found`."""
        await self._upstream.call("DELETE", f"/internal/v1/webhooks/{webhook_id}", account_id)

    async def deliveries(
        self, account_id: str, webhook_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The deliveries of one endpoint of the account, or of all its endpoints, newest
        first."""
        path = (
            f"/internal/v1/webhooks/{webhook_id}/deliveries"
            if webhook_id
            else "/internal/v1/webhook-deliveries"
        )
        result = await self._upstream.call("GET", path, account_id, params={"limit": str(limit)})
        deliveries: list[dict[str, Any]] = result.get("deliveries", [])
        return deliveries
