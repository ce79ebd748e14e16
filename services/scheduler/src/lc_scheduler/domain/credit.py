"""Which accounts may be dispatched: an account billing refused waits for its credit.

A refused reservation blocks the account: none of its batches is picked until
billing announces `restored` (unblock), or, as a safety net should that event
be lost, until its re-check time, when one lead is picked and one reservation
tried again (granted: unblocked; refused: blocked for another period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class CreditBlocks:
    """Blocked accounts and when each is tried again."""

    recheck: timedelta
    recheck_at: dict[str, datetime] = field(default_factory=dict)

    def allowance(self, account_id: str, now: datetime) -> int | None:
        """How many leads of the account a round may pick: None (no limit), 1 or 0."""
        at = self.recheck_at.get(account_id)
        if at is None:
            return None
        return 1 if at <= now else 0

    def block(self, account_id: str, now: datetime) -> None:
        """Billing refused the account (or did not answer its re-check): wait a period."""
        self.recheck_at[account_id] = now + self.recheck

    def unblock(self, account_id: str) -> bool:
        """Credit is back; True if the account was blocked."""
        return self.recheck_at.pop(account_id, None) is not None

    def is_blocked(self, account_id: str) -> bool:
        """True while the account waits for credit."""
        return account_id in self.recheck_at

    def __len__(self) -> int:
        return len(self.recheck_at)
