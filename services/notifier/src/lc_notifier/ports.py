"""The ports the notifier's handlers depend on; `lc_notifier.adapters` implements them."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from typing import Any, Protocol

from lc_notifier.emails import Account


class PeerReader(Protocol):
    async def account(self, account_id: str) -> Account: ...
    async def batch(self, account_id: str, batch_id: str) -> dict[str, Any]: ...
    async def daily(self, account_id: str, day: date, tz: str) -> list[dict[str, Any]]: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class IngestReader(Protocol):
    async def batch(self, account_id: str, batch_id: str) -> dict[str, Any]: ...
    async def daily(self, account_id: str, day: date, tz: str) -> list[dict[str, Any]]: ...
