"""What billing does with each verdict and each request: reserve, settle, release, grant.

Purchases and the provider's webhooks are in `lc_billing.purchases`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from lc_billing import domain
from lc_billing.adapters.reservations import ChargeOutcome, ForeignLead, LeadRef
from lc_billing.metrics import (
    BALANCE_EXHAUSTED,
    DUPLICATE_VERDICTS,
    RESERVATIONS,
    RESERVATIONS_RELEASED,
    UNITS_CREDITED,
    UNITS_DEDUCTED,
    UNRESERVED_VERDICTS,
)
from lc_billing.ports import Ledger, Provider, Relay, Reservations
from lc_common.clock import Clock
from lc_common.errors import PoisonEvent
from lc_common.events import LeadVerdictV1
from lc_common.store import Document

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Pricing:
    unit_price_cents: int
    currency: str


@dataclass
class BillingDeps:
    """Everything the handlers need, built by `bootstrap.build`."""

    ledger: Ledger
    reservations: Reservations
    provider: Provider
    relay: Relay
    clock: Clock
    pricing: Pricing
    webhook_secret: str


async def handle_verdict(event: LeadVerdictV1, deps: BillingDeps) -> None:
    """Settle a lead's reservation on its final verdict; non-final verdicts change nothing.

    Chargeable: the reservation becomes the charge, keyed by lead id, so a redelivered
    verdict (or one the reconciler already settled) charges nothing more. Not
    chargeable (every attempt met a trunk fault): the unit is released, no charge.
    """
    if not event.final:
        return
    lead = LeadRef(event.lead_id, event.account_id, event.batch_id)
    now = deps.clock.now()
    try:
        if not domain.is_chargeable(event):
            if await deps.reservations.free(lead, now):
                RESERVATIONS_RELEASED.labels("not_chargeable").inc()
            log.info("verdict_not_chargeable")
            return
        outcome = await deps.reservations.charge(lead, f"verdict:{event.event_id}", now)
    except ForeignLead as exc:
        raise PoisonEvent(str(exc)) from exc
    record_charge(outcome)


def record_charge(outcome: ChargeOutcome) -> None:
    """Count and log what a charge did (by the verdict consumer or the reconciler)."""
    if outcome == "duplicate":
        DUPLICATE_VERDICTS.inc()
        log.info("lead_already_charged")
        return
    if outcome == "written_off":
        UNRESERVED_VERDICTS.labels("written_off").inc()
        log.warning("unreserved_verdict_written_off")
        return
    UNITS_DEDUCTED.inc()
    if outcome == "charged_unreserved":
        UNRESERVED_VERDICTS.labels("charged").inc()
        log.warning("unreserved_verdict_charged")


async def reserve(
    deps: BillingDeps, account_id: str, leads: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Hold a unit per `(lead_id, batch_id)` while credit allows; the answer of the route."""
    result = await deps.reservations.reserve(account_id, leads, deps.clock.now())
    plan = result.plan
    for outcome, count in (
        ("granted", len(plan.granted)),
        ("held", len(plan.held)),
        ("refused", len(plan.refused)),
        ("settled", len(plan.settled)),
    ):
        if count:
            RESERVATIONS.labels(outcome).inc(count)
    if result.exhausted:
        BALANCE_EXHAUSTED.inc()
        log.info("credit_exhausted", account_id=account_id, refused=len(plan.refused))
        deps.relay.wake()
    return {
        "reserved": plan.reserved,
        "refused": plan.refused,
        "settled": plan.settled,
        "available": result.available,
    }


async def release(
    deps: BillingDeps, *, lead_ids: Sequence[str] = (), batch_id: str | None = None
) -> int:
    """Release open reservations of these leads or of the batch; how many were open."""
    released = await deps.reservations.release(
        deps.clock.now(), lead_ids=lead_ids, batch_id=batch_id
    )
    if released:
        RESERVATIONS_RELEASED.labels("given_up").inc(released)
    log.info("reservations_released", batch_id=batch_id, leads=len(lead_ids), released=released)
    return released


async def grant(deps: BillingDeps, account_id: str, units: int, description: str) -> Document:
    """Credit units without payment (operator or demo credit)."""
    now = deps.clock.now()
    row = {
        "_id": domain.new_grant_id(),
        "account_id": account_id,
        "kind": "grant",
        "units": units,
        "batch_id": None,
        "description": description,
        "status": "completed",
        "created_at": now,
        "updated_at": now,
    }
    await deps.ledger.grant(row)
    UNITS_CREDITED.labels("grant").inc(units)
    log.info("grant_recorded", account_id=account_id, units=units)
    deps.relay.wake()
    return row
