"""The ports billing's handlers and reconciler depend on; `lc_billing.adapters` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from lc_billing.adapters.ingest import LeadState
from lc_billing.adapters.ledger import Balance
from lc_billing.adapters.payments import CheckoutSession
from lc_billing.adapters.reservations import ChargeOutcome, LeadRef, ReserveResult
from lc_common.store import Document


class Ledger(Protocol):
    async def create_purchase(self, purchase: Document) -> None: ...
    async def attach_checkout(self, purchase_id: str, session_id: str, url: str) -> None: ...
    async def purchase(self, purchase_id: str) -> Document | None: ...
    async def complete_purchase(
        self, purchase: Document, event_id: str, receipt: Document, now: datetime
    ) -> bool: ...
    async def cancel_purchase(self, purchase_id: str, now: datetime) -> bool: ...
    async def grant(self, row: Document) -> None: ...
    async def balance(self, account_id: str) -> Balance: ...
    async def transactions(
        self, account_id: str, limit: int = 500, after: tuple[datetime, str] | None = None
    ) -> list[Document]: ...
    async def receipts(
        self, account_id: str, limit: int = 100, after: tuple[datetime, str] | None = None
    ) -> list[Document]: ...


class Reservations(Protocol):
    async def reserve(
        self, account_id: str, leads: Sequence[tuple[str, str]], now: datetime
    ) -> ReserveResult: ...
    async def release(
        self, now: datetime, *, lead_ids: Sequence[str] = (), batch_id: str | None = None
    ) -> int: ...
    async def charge(self, lead: LeadRef, source: str, now: datetime) -> ChargeOutcome: ...
    async def free(self, lead: LeadRef, now: datetime) -> bool: ...


class Provider(Protocol):
    async def create_checkout_session(
        self, params: dict[str, Any], idempotency_key: str
    ) -> CheckoutSession: ...


class Relay(Protocol):
    def wake(self) -> None: ...


class LeadStates(Protocol):
    async def lead_states(self, lead_ids: Sequence[str]) -> dict[str, LeadState]: ...


class DueReservations(Protocol):
    async def due_for_reconciling(self, now: datetime, limit: int = 1000) -> list[Document]: ...
    async def postpone(self, lead_ids: Sequence[str], now: datetime) -> None: ...
