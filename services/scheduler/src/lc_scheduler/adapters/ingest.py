"""ingest's internal API: open leads (the source of truth for a re-drive) and retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx
from pydantic import BaseModel

from lc_common.http import ACCOUNT_HEADER

# Lead states at ingest that are never dialled again.
FINAL_STATES = frozenset({"connected", "disconnected", "indeterminate", "rejected"})


class OpenLead(BaseModel):
    """One lead ingest still counts as not final."""

    lead_id: str
    batch_id: str
    account_id: str
    e164: str
    state: str | None = None

    @property
    def final(self) -> bool:
        """True if ingest holds the lead final (or rejected): it is never dialled again."""
        return self.state in FINAL_STATES


DeleteOutcome = Literal["deleted", "not_expired", "not_found"]


class OpenLeadsPage(BaseModel):
    """`GET /internal/v1/leads?open=true` answer."""

    leads: list[OpenLead]
    next: str | None = None


@dataclass
class IngestClient:
    """Calls ingest's internal API over the scheduler's pooled client of ingest
    (`lc_common.http.pooled_client`: base URL and internal token set there)."""

    http: httpx.AsyncClient

    async def open_leads(self, after: str | None, limit: int) -> OpenLeadsPage:
        """One page of open leads, in lead id order, after `after`."""
        params: dict[str, str | int] = {"open": "true", "limit": limit}
        if after:
            params["after"] = after
        response = await self.http.get("/internal/v1/leads", params=params)
        response.raise_for_status()
        return OpenLeadsPage.model_validate(response.json())

    async def delete_batch(
        self, batch_id: str, account_id: str, expired_before: datetime
    ) -> DeleteOutcome:
        """Ask ingest to delete a batch whose retention clock started before `expired_before`.

        ingest checks that itself (it may have seen an unpause we have not yet).
        """
        response = await self.http.delete(
            f"/internal/v1/batches/{batch_id}",
            params={"expired_before": expired_before.isoformat()},
            headers={ACCOUNT_HEADER: account_id},
        )
        if response.status_code == 404:
            return "not_found"
        if response.status_code == 409:
            return "not_expired"
        response.raise_for_status()
        return "deleted"
