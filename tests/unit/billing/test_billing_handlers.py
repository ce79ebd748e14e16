"""Billing's handlers with an in-memory ledger: idempotent charging, credit events, webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lc_billing import domain, handlers
from lc_billing.adapters.payments import CheckoutSession
from lc_billing.domain import CreditState
from lc_billing.handlers import BadWebhook, BillingDeps, InvalidSignature, Pricing
from lc_common.clock import ManualClock
from lc_common.events import CreditEventV1, Evidence, LeadVerdictV1
from lc_common.store import Document

SECRET = "test-secret"


class MemoryLedger:
    """The ledger's contract in memory: a charge marker per lead, totals per account."""

    def __init__(self) -> None:
        self.markers: set[str] = set()
        self.credited: dict[str, int] = {}
        self.charged: dict[str, int] = {}
        self.published: dict[str, CreditState] = {}
        self.rows: dict[str, Document] = {}

    async def charge(self, verdict: LeadVerdictV1, now: datetime) -> bool:
        if verdict.lead_id in self.markers:
            return False
        self.markers.add(verdict.lead_id)
        self.charged[verdict.account_id] = self.charged.get(verdict.account_id, 0) + 1
        return True

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

    async def credit_status(self, account_id: str) -> tuple[int, CreditState]:
        balance = self.credited.get(account_id, 0) - self.charged.get(account_id, 0)
        return balance, self.published.get(account_id, "restored")

    async def mark_published(self, account_id: str, old: CreditState, new: CreditState) -> bool:
        if self.published.get(account_id, "restored") != old:
            return False
        self.published[account_id] = new
        return True

    async def transactions(self, account_id: str, limit: int = 500) -> list[Document]:
        return [r for r in self.rows.values() if r["account_id"] == account_id]


class FakeProvider:
    async def create_checkout_session(
        self, *, purchase_id: str, units: int, amount_cents: int, currency: str, return_url: str
    ) -> CheckoutSession:
        return CheckoutSession(id=f"cs_{purchase_id}", url=f"https://pay.example/{purchase_id}")


class RecordedEvents:
    def __init__(self) -> None:
        self.events: list[CreditEventV1] = []

    async def publish(self, event: CreditEventV1) -> None:
        self.events.append(event)


@pytest.fixture
def deps() -> BillingDeps:
    return BillingDeps(
        ledger=MemoryLedger(),
        provider=FakeProvider(),
        credit_events=RecordedEvents(),
        clock=ManualClock(datetime(2025, 3, 3, 9, tzinfo=UTC)),
        pricing=Pricing(unit_price_cents=5, currency="AUD"),
        webhook_secret=SECRET,
    )


def _events(deps: BillingDeps) -> list[tuple[str, int]]:
    recorded = deps.credit_events
    assert isinstance(recorded, RecordedEvents)
    return [(e.kind, e.balance) for e in recorded.events]


def _verdict(row: int, final: bool = True) -> LeadVerdictV1:
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
    )


async def test_a_redelivered_final_verdict_is_charged_once(deps: BillingDeps) -> None:
    await handlers.grant(deps, "acc_1", 10, "demo")
    for event in (_verdict(1), _verdict(1), _verdict(2), _verdict(1)):
        await handlers.handle_verdict(event, deps)
    assert await deps.ledger.credit_status("acc_1") == (8, "restored")


async def test_non_final_verdicts_cost_nothing(deps: BillingDeps) -> None:
    await handlers.grant(deps, "acc_1", 1, "demo")
    await handlers.handle_verdict(_verdict(1, final=False), deps)
    assert (await deps.ledger.credit_status("acc_1"))[0] == 1


async def test_exhaustion_is_announced_once_and_credit_restores(deps: BillingDeps) -> None:
    await handlers.grant(deps, "acc_1", 2, "demo")
    for row in (1, 2, 3, 3, 4):
        await handlers.handle_verdict(_verdict(row), deps)
    assert _events(deps) == [("exhausted", 0)]
    await handlers.grant(deps, "acc_1", 1, "not enough")  # -2 + 1: still exhausted
    assert _events(deps) == [("exhausted", 0)]
    await handlers.grant(deps, "acc_1", 5, "top up")
    assert _events(deps) == [("exhausted", 0), ("restored", 4)]


async def test_an_account_without_credit_is_exhausted_on_its_first_charge(
    deps: BillingDeps,
) -> None:
    await handlers.handle_verdict(_verdict(1), deps)
    assert _events(deps) == [("exhausted", -1)]


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
    assert (await deps.ledger.credit_status("acc_1"))[0] == 100


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
    assert (await deps.ledger.credit_status("acc_1"))[0] == 0


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
    assert (await deps.ledger.credit_status("acc_1"))[0] == 0
