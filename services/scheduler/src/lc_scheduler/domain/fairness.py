"""Fair shares of a dispatch round: accounts first, then their batches.

Each round has a budget (the free room on the trunks). It is split equally
between the accounts that have due work, then equally between each account's
batches; a rotating cursor gives the remainder to a different account and batch
each round, so a batch of 500 submitted after one of 200,000 gets the same
share per round and finishes long before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def rotate(items: Sequence[T], cursor: int) -> list[T]:
    """The items starting at `cursor` (mod len), wrapping round."""
    if not items:
        return []
    k = cursor % len(items)
    return [*items[k:], *items[:k]]


def split_evenly(budget: int, n: int) -> list[int]:
    """`budget` split into n shares differing by at most one, larger ones first."""
    if n <= 0:
        return []
    base, extra = divmod(budget, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def shares(
    budget: int,
    batches_by_account: Mapping[str, Sequence[str]],
    cursor: int = 0,
) -> dict[str, int]:
    """How many leads each batch may dispatch this round (batches with 0 left out).

    `batches_by_account` lists, per account, its batches with due work, in the
    order that account's batches should take turns (oldest first).
    """
    accounts = rotate(sorted(batches_by_account), cursor)
    result: dict[str, int] = {}
    for account, account_share in zip(accounts, split_evenly(budget, len(accounts)), strict=True):
        batches = rotate(list(batches_by_account[account]), cursor)
        for batch, share in zip(batches, split_evenly(account_share, len(batches)), strict=True):
            if share > 0:
                result[batch] = share
    return result
