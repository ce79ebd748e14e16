"""Billing's handlers with in-memory ports: how verdicts settle, reservations answer, webhooks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from lc_billing import domain, handlers
from lc_billing.adapters.ledger import Balance
from lc_billing.adapters.payments import CheckoutSession
from lc_billing.adapters.reservations import ChargeOutcome, LeadRef, ReserveResult
from lc_billing.handlers import BadWebhook, BillingDeps, InvalidSignature, Pricing
from lc_billing.reservations import plan_reservations
from lc_common.clock import ManualClock
from lc_common.events import Evidence, LeadVerdictV1
from lc_common.store import Document

SECRET = "test-secret"


class MemoryLedger:
    """The ledger's credit contract in memory."""

    def __init__(self) -> None:
        self.credited: dict[str, int] = {}
        self.rows: dict[str, Document] = {}

    async def create_purchase(self, purchase: Document) -> None:
        self.rows[purchase["_id"]] = dict(purchase)

    async def attach_checkout(self, purchase_id: str, session_id: str, url: str) -> None:
        self.rows[purchase_id]["provider_session_id"] = session_id

    async def purchase(self, purchase_id: str) -> Document | None:
        return self.rows.get(purchase_id)

    async def complete_purchase(self, purchase: Document, now: datetime) -> bool:
        row = self.rows[purchase["_id"]]
        if row["status"] != "pending":
            return False
        row["status"] = "paid"
        account = row["account_id"]
        self.credited[account] = self.credited.get(account, 0) + row["units"]
        return True

    async def cancel_purchase(self, purchase_id: str, now: datetime) -> bool:
        row = self.rows[purchase_id]
        if row["status"] != "pending":
            return False
        row["status"] = "cancelled"
        return True

    async def grant(self, row: Document) -> None:
        self.rows[row["_id"]] = row
        account = row["account_id"]
        self.credited[account] = self.credited.get(account, 0) + row["units"]

    async def balance(self, account_id: str) -> Balance:
        units = self.credited.get(account_id, 0)
        return Balance(units, 0, units)

    async def transactions(self, account_id: str, limit: int = 500) -> list[Document]:
        return [r for r in self.rows.values() if r["account_id"] == account_id]


class RecordedReservations:
    """Records how verdicts were settled; the settlement itself is tested on the store."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def reserve(
        self, account_id: str, leads: Sequence[tuple[str, str]], now: datetime
    ) -> ReserveResult:
        plan = plan_reservations([lead for lead, _ in leads], {}, [], available=1)
        return ReserveResult(plan, 0, exhausted=bool(plan.refused))

    async def release(
        self, now: datetime, *, lead_ids: Sequence[str] = (), batch_id: str | None = None
    ) -> int:
        return 0

    async def charge(self, lead: LeadRef, source: str, now: datetime) -> ChargeOutcome:
        self.calls.append(("charge", lead.lead_id))
        return "charged"

    async def free(self, lead: LeadRef, now: datetime) -> bool:
        self.calls.append(("free", lead.lead_id))
        return True


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


class FakeProvider:
    async def create_checkout_session(
        self, *, purchase_id: str, units: int, amount_cents: int, currency: str, return_url: str
    ) -> CheckoutSession:
        return CheckoutSession(id=f"cs_{purchase_id}", url=f"https://pay.example/{purchase_id}")


@pytest.fixture
def deps() -> BillingDeps:
    return BillingDeps(
        ledger=MemoryLedger(),
        reservations=RecordedReservations(),
        provider=FakeProvider(),
        relay=Wakes(),
        clock=ManualClock(datetime(2025, 3, 3, 9, tzinfo=UTC)),
        pricing=Pricing(unit_price_cents=5, currency="AUD"),
        webhook_secret=SECRET,
    )


def _verdict(row: int, final: bool = True, chargeable: bool = True) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id="acc_1",
        batch_id="bat_1",
        lead_id=f"bat_1:{row:09d}",
        probe_id=f"p{row}",
        attempt=1,
        status="connected" if final else "indeterminate",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=datetime(2025, 1, 1, tzinfo=UTC)),
        chargeable=chargeable,
    )


async def test_final_verdicts_charge_or_free_by_chargeable_and_non_final_do_nothing(
    deps: BillingDeps,
) -> None:
    for event in (_verdict(1), _verdict(2, chargeable=False), _verdict(3, final=False)):
        await handlers.handle_verdict(event, deps)
    recorded = deps.reservations
    assert isinstance(recorded, RecordedReservations)
    assert recorded.calls == [("charge", "bat_1:000000001"), ("free", "bat_1:000000002")]


async def test_a_refusal_that_exhausts_wakes_the_relay(deps: BillingDeps) -> None:
    answer = await handlers.reserve(deps, "acc_1", [("bat_1:1", "bat_1"), ("bat_1:2", "bat_1")])
    assert answer == {
        "reserved": ["bat_1:1"],
        "refused": ["bat_1:2"],
        "settled": [],
        "available": 0,
    }
    wakes = deps.relay
    assert isinstance(wakes, Wakes) and wakes.count == 1


def _webhook(purchase_id: str, kind: str = "checkout.completed", units: int = 100) -> bytes:
    return json.dumps(
        {
            "id": "evt_1",
            "type": kind,
            "session_id": f"cs_{purchase_id}",
            "purchase_id": purchase_id,
            "units": units,
            "amount_cents": units * 5,
            "currency": "AUD",
        }
    ).encode()


async def test_a_paid_webhook_credits_once_and_replays_change_nothing(deps: BillingDeps) -> None:
    created = await handlers.create_purchase(deps, "acc_1", 100, "https://app/billing")
    assert created["checkout_url"] == f"https://pay.example/{created['purchase_id']}"
    body = _webhook(created["purchase_id"])
    signature = domain.sign(body, SECRET)
    assert await handlers.handle_payment_webhook(deps, body, signature) == "paid"
    assert await handlers.handle_payment_webhook(deps, body, signature) == "replayed"
    assert (await deps.ledger.balance("acc_1")).balance == 100


async def test_webhooks_that_do_not_verify_or_match_are_refused(deps: BillingDeps) -> None:
    created = await handlers.create_purchase(deps, "acc_1", 100, "https://app/billing")
    body = _webhook(created["purchase_id"])
    with pytest.raises(InvalidSignature):
        await handlers.handle_payment_webhook(deps, body, domain.sign(body, "wrong"))
    inflated = _webhook(created["purchase_id"], units=100_000)
    with pytest.raises(BadWebhook):
        await handlers.handle_payment_webhook(deps, inflated, domain.sign(inflated, SECRET))
    unknown = _webhook("pur_nope")
    with pytest.raises(BadWebhook):
        await handlers.handle_payment_webhook(deps, unknown, domain.sign(unknown, SECRET))
    assert (await deps.ledger.balance("acc_1")).balance == 0


async def test_a_cancelled_checkout_credits_nothing(deps: BillingDeps) -> None:
    created = await handlers.create_purchase(deps, "acc_1", 100, "https://app/billing")
    body = _webhook(created["purchase_id"], kind="checkout.cancelled")
    assert await handlers.handle_payment_webhook(deps, body, domain.sign(body, SECRET)) == (
        "cancelled"
    )
    paid = _webhook(created["purchase_id"])
    assert await handlers.handle_payment_webhook(deps, paid, domain.sign(paid, SECRET)) == (
        "replayed"
    )
    assert (await deps.ledger.balance("acc_1")).balance == 0
