"""The reconciler: heals reservations that a lost verdict left open.

Every `interval` it takes the open reservations not looked at for
`reconcile_after` (`MongoReservations.due_for_reconciling`), asks ingest for
those leads' states and settles each as its final verdict would have: final and
chargeable → charge (keyed by lead id, so never twice with the verdict consumer),
final and free or unknown to ingest (its batch was deleted) → release, not final
→ look again later.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog

from lc_billing.adapters.ingest import LeadState
from lc_billing.adapters.reservations import LeadRef
from lc_billing.domain.reservations import reconcile_action
from lc_billing.handlers import BillingDeps, record_charge
from lc_billing.metrics import RECONCILED, RESERVATIONS_RELEASED
from lc_billing.ports import DueReservations, LeadStates

log = structlog.get_logger(__name__)


async def reconcile_once(
    deps: BillingDeps, due: DueReservations, ingest: LeadStates, limit: int = 1000
) -> Counter[str]:
    """One pass over up to `limit` due reservations; how many were charged, released, left."""
    now = deps.clock.now()
    open_ = await due.due_for_reconciling(now, limit)
    outcomes: Counter[str] = Counter()
    if not open_:
        return outcomes
    states = await ingest.lead_states([r["_id"] for r in open_])
    left: list[str] = []
    for reservation in open_:
        lead = LeadRef(reservation["_id"], reservation["account_id"], reservation["batch_id"])
        state = states.get(lead.lead_id)
        action = reconcile_action(
            state.final if state else None, state.chargeable if state else None
        )
        with structlog.contextvars.bound_contextvars(
            lead_id=lead.lead_id, batch_id=lead.batch_id, account_id=lead.account_id
        ):
            if action == "charge":
                record_charge(await deps.reservations.charge(lead, "reconciler", now))
                outcome = "charged"
            elif action == "release":
                if await deps.reservations.release(now, lead_ids=[lead.lead_id]):
                    RESERVATIONS_RELEASED.labels("reconciled").inc()
                outcome = "released"
            else:
                left.append(lead.lead_id)
                outcome = "left"
            RECONCILED.labels(outcome).inc()
            outcomes[outcome] += 1
            if outcome != "left":
                log.info("reservation_reconciled", outcome=outcome, ingest_state=_state(state))
    if left:
        await due.postpone(left, now)
    return outcomes


def _state(state: LeadState | None) -> str:
    return state.state if state else "unknown"


async def run_reconciler(
    deps: BillingDeps, due: DueReservations, ingest: LeadStates, interval: float
) -> None:
    """Reconcile every `interval` seconds; a pass that fails (ingest down) is retried next time."""
    while True:
        try:
            outcomes = await reconcile_once(deps, due, ingest)
            if outcomes:
                log.info("reconcile_pass", **outcomes)
        except Exception as exc:  # ingest or store down: the reservations stay open, retried
            log.warning("reconcile_failed", error=repr(exc))
        await asyncio.sleep(interval)
