"""ingest's list of open leads, the source of truth for a re-drive."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import BaseModel


class OpenLead(BaseModel):
    """One lead ingest still counts as not final."""

    lead_id: str
    batch_id: str
    account_id: str
    e164: str
    state: str | None = None


class OpenLeadsPage(BaseModel):
    """`GET /internal/v1/leads?open=true` answer."""

    leads: list[OpenLead]
    next: str | None = None


@dataclass
class IngestClient:
    """Calls ingest's internal API."""

    base_url: str
    token: str
    timeout: float = 30.0

    async def open_leads(self, after: str | None, limit: int) -> OpenLeadsPage:
        """One page of open leads, in lead id order, after `after`."""
        params: dict[str, str | int] = {"open": "true", "limit": limit}
        if after:
            params["after"] = after
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout) as client:
            response = await client.get(
                "/internal/v1/leads",
                params=params,
                headers={"X-LC-Internal-Token": self.token},
            )
            response.raise_for_status()
            return OpenLeadsPage.model_validate(response.json())
