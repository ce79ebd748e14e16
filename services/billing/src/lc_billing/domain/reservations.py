"""Reservation rules, free of I/O: who gets a unit, when credit events are due, what heals.

A lead's reservation goes `open` (a unit held for it) → `charged` (its final verdict
was chargeable) or `freed` (final, not chargeable), or → `released` (its batch
failed or was deleted; a later request may reserve it again). A lead charged
without a reservation (should not happen) is `charged` too, or `written_off` if
no unit was available. Charged, freed and written off are settled: never dialled
or charged again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lc_billing.domain import CreditState

ReservationStatus = Literal["open", "charged", "freed", "released", "written_off"]
SETTLED: frozenset[str] = frozenset({"charged", "freed", "written_off"})

ReconcileAction = Literal["charge", "release", "leave"]


@dataclass(frozen=True)
class ReservationPlan:
    """What one reservation request does, leads in request order (each once)."""

    held: list[str] = field(default_factory=list)
    """Leads that already hold an open reservation: reserved again, no new unit."""
    granted: list[str] = field(default_factory=list)
    """Leads that take a new unit now."""
    refused: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    """Every requested lead once, in request order."""

    @property
    def reserved(self) -> list[str]:
        """Every lead the caller may dial (held or granted), in request order."""
        dialable = {*self.held, *self.granted}
        return [lead for lead in self.order if lead in dialable]


def plan_reservations(
    lead_ids: Sequence[str],
    statuses: Mapping[str, str],
    charged: Iterable[str],
    available: int,
) -> ReservationPlan:
    """Split requested leads by what they get, granting new units while `available` lasts.

    `statuses` are the leads' current reservation statuses, `charged` the leads with a
    charge marker. Grants go in request order; once one is refused for want of
    credit every later new lead is refused too (partial grants, never a gap).
    """
    charged_set = set(charged)
    plan = ReservationPlan()
    left = max(available, 0)
    seen: set[str] = set()
    for lead in lead_ids:
        if lead in seen:
            continue
        seen.add(lead)
        plan.order.append(lead)
        status = statuses.get(lead)
        if lead in charged_set or status in SETTLED:
            plan.settled.append(lead)
        elif status == "open":
            plan.held.append(lead)
        elif left >= 1 and not plan.refused:
            plan.granted.append(lead)
            left -= 1
        else:
            plan.refused.append(lead)
    return plan


def state_after_refusal(published: CreditState, refused: int) -> CreditState | None:
    """`exhausted` is due once, when a reservation is refused for lack of credit."""
    return "exhausted" if refused > 0 and published != "exhausted" else None


def state_after_credit(published: CreditState, available: int) -> CreditState | None:
    """`restored` is due when credit bought or granted leaves an exhausted account a unit.

    Only credit restores: a released reservation freeing a unit does not, so an
    account on the edge does not flap between the two states.
    """
    return "restored" if published == "exhausted" and available >= 1 else None


def reconcile_action(final: bool | None, chargeable: bool | None) -> ReconcileAction:
    """What an open reservation needs, given its lead's state in ingest (None: unknown).

    Final and chargeable: charge it. Final and free, or unknown to ingest (its batch
    was deleted): release it. Not final yet: leave it.
    """
    if final is None:
        return "release"
    if not final:
        return "leave"
    return "charge" if chargeable else "release"
