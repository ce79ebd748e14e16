"""In-memory ports of billing's handlers, for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lc_billing.adapters.ledger import Balance
from lc_billing.adapters.payments import CheckoutSession, ProviderError
from lc_billing.adapters.reservations import ChargeOutcome, LeadRef, ReserveResult
from lc_billing.domain.reservations import plan_reservations
from lc_billing.handlers import BillingDeps, Pricing
from lc_common.clock import ManualClock
from lc_common.store import Document

SECRET = "whsec_unit_test_secret"
NOW = datetime(2025, 3, 3, 9, tzinfo=UTC)


class MemoryLedger:
    """The ledger's credit contract in memory."""

    def __init__(self) -> None:
        self.credited: dict[str, int] = {}
        self.rows: dict[str, Document] = {}
        self.events: set[str] = set()
        self.receipt_rows: list[Document] = []

    async def create_purchase(self, purchase: Document) -> None:
        self.rows[purchase["_id"]] = dict(purchase)

    async def attach_checkout(self, purchase_id: str, session_id: str, url: str) -> None:
        self.rows[purchase_id]["provider_session_id"] = session_id

    async def purchase(self, purchase_id: str) -> Document | None:
        return self.rows.get(purchase_id)

    async def complete_purchase(
        self, purchase: Document, event_id: str, receipt: Document, now: datetime
    ) -> bool:
        row = self.rows[purchase["_id"]]
        if event_id in self.events or row["status"] != "pending":
            return False
        self.events.add(event_id)
        row["status"] = "paid"
        account = row["account_id"]
        self.credited[account] = self.credited.get(account, 0) + row["units"]
        self.receipt_rows.append(receipt)
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

    async def transactions(
        self, account_id: str, limit: int = 500, after: tuple[datetime, str] | None = None
    ) -> list[Document]:
        return [r for r in self.rows.values() if r["account_id"] == account_id]

    async def receipts(
        self, account_id: str, limit: int = 100, after: tuple[datetime, str] | None = None
    ) -> list[Document]:
        return [r for r in self.receipt_rows if r["account_id"] == account_id]


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
    """Records the sessions asked for; `fail` makes the next creation fail."""

    def __init__(self) -> None:
        self.created: list[tuple[dict[str, Any], str]] = []
        self.fail = False

    async def create_checkout_session(
        self, params: dict[str, Any], idempotency_key: str
    ) -> CheckoutSession:
        if self.fail:
            raise ProviderError("down")
        self.created.append((params, idempotency_key))
        return CheckoutSession(
            id=f"cs_{idempotency_key}", url=f"https://pay.example/{idempotency_key}"
        )


def memory_deps() -> BillingDeps:
    """Handlers' dependencies, all in memory; 5 cents a unit in AUD."""
    return BillingDeps(
        ledger=MemoryLedger(),
        reservations=RecordedReservations(),
        provider=FakeProvider(),
        relay=Wakes(),
        clock=ManualClock(NOW),
        pricing=Pricing(unit_price_cents=5, currency="AUD"),
        webhook_secret=SECRET,
    )
