"""Ingest's internal API, as billing's reconciler uses it: the states of leads."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from lc_common.events.types import Identifier
from lc_common.http import pooled_client

MAX_LEADS_PER_CALL = 1000


class LeadState(BaseModel):
    """What ingest holds about one lead."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    lead_id: Identifier
    account_id: Identifier
    batch_id: Identifier
    state: str
    final: bool
    chargeable: bool | None = None
    attempts: int = 0


class _LeadStates(BaseModel):
    model_config = ConfigDict(extra="ignore")

    leads: list[LeadState]


class IngestClient:
    """`POST /internal/v1/leads/states` on ingest, with the internal token."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._http = pooled_client(base_url, timeout, token)

    async def close(self) -> None:
        await self._http.aclose()

    async def lead_states(self, lead_ids: Sequence[str]) -> dict[str, LeadState]:
        """The states of the leads ingest knows, by lead id; unknown ids are absent.

        Raises `httpx.HTTPError` (or a validation error) if ingest does not answer well.
        """
        found: dict[str, LeadState] = {}
        for start in range(0, len(lead_ids), MAX_LEADS_PER_CALL):
            chunk = list(lead_ids[start : start + MAX_LEADS_PER_CALL])
            response = await self._http.post("/internal/v1/leads/states", json={"lead_ids": chunk})
            response.raise_for_status()
            found.update((s.lead_id, s) for s in _LeadStates.model_validate(response.json()).leads)
        return found
