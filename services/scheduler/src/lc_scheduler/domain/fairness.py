"""Fair turns in a dispatch round: accounts first, then their batches.

A round hands out the free room on the trunks one lead at a time: each account
in turn, and within an account each of its batches in turn. A batch that has
nothing more to give this round (nothing due, or no trunk with room carries its
numbers) drops out of the round. A rotating cursor starts each round at a
different account and batch. So a batch of 500 submitted after one of 200,000
gets the same share of every round and finishes long before it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def rotate(items: Sequence[T], cursor: int) -> list[T]:
    """The items starting at `cursor` (mod len), wrapping round."""
    if not items:
        return []
    k = cursor % len(items)
    return [*items[k:], *items[:k]]


class Turns:
    """Whose turn it is: round-robin over accounts, then over each account's batches."""

    def __init__(self, batches_by_account: Mapping[str, Sequence[str]], cursor: int = 0) -> None:
        accounts = rotate(sorted(batches_by_account), cursor)
        # The batch turn advances once per full turn of the accounts, so an account
        # that only gets a turn every other round still cycles through its batches.
        spin = cursor // max(1, len(accounts))
        self._accounts: deque[str] = deque(accounts)
        self._batches: dict[str, deque[str]] = {
            a: deque(rotate(list(batches_by_account[a]), spin)) for a in accounts
        }

    def __bool__(self) -> bool:
        return bool(self._accounts)

    def next(self) -> str | None:
        """The batch whose turn it is (then it goes to the back), or None when all are out."""
        while self._accounts:
            account = self._accounts[0]
            batches = self._batches[account]
            if not batches:
                self._accounts.popleft()
                continue
            self._accounts.rotate(-1)
            batch = batches[0]
            batches.rotate(-1)
            return batch
        return None

    def drop(self, batch: str) -> None:
        """The batch has nothing more to give this round."""
        for batches in self._batches.values():
            if batch in batches:
                batches.remove(batch)
