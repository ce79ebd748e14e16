"""billing's internal API: credit reservations before a lead is dialled, releases after.

`POST /internal/v1/reservations` `{"account_id", "leads": [{"lead_id", "batch_id"}]}`
(at most `RESERVE_MAX` leads) answers which leads now hold a reservation, which
were refused (no credit left) and which are settled already (charged or final:
never dial them); idempotent per lead. `POST /internal/v1/reservations/release`
`{"batch_id"}` releases every reservation of a failed or deleted batch; idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, field_validator

# Leads per reservation request (billing's limit).
RESERVE_MAX = 1000


def _lead_ids(value: Any) -> Any:
    # Lead ids, or objects naming one: either shape is taken.
    if isinstance(value, list):
        return [item["lead_id"] if isinstance(item, dict) else item for item in value]
    return value


class Reservation(BaseModel):
    """billing's answer to a reservation request, per lead."""

    reserved: list[str] = []
    refused: list[str] = []
    settled: list[str] = []
    available: int = 0

    _ids = field_validator("reserved", "refused", "settled", mode="before")(_lead_ids)


@dataclass
class BillingClient:
    """Calls billing's internal API over the scheduler's pooled client of billing
    (`lc_common.http.pooled_client`: base URL and internal token set there)."""

    http: httpx.AsyncClient

    async def reserve(self, account_id: str, leads: Sequence[tuple[str, str]]) -> Reservation:
        """Reserve a unit for each (lead id, batch id); raises if billing does not answer."""
        if len(leads) > RESERVE_MAX:
            raise ValueError(f"at most {RESERVE_MAX} leads per reservation request")
        response = await self.http.post(
            "/internal/v1/reservations",
            json={
                "account_id": account_id,
                "leads": [
                    {"lead_id": lead_id, "batch_id": batch_id} for lead_id, batch_id in leads
                ],
            },
        )
        response.raise_for_status()
        return Reservation.model_validate(response.json())

    async def release_batch(self, batch_id: str) -> None:
        """Release every reservation of the batch's leads; raises if billing does not answer."""
        response = await self.http.post(
            "/internal/v1/reservations/release",
            json={"batch_id": batch_id},
        )
        response.raise_for_status()
