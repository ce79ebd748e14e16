"""The Batches table's pure rules: search, pages, compact numbers and short ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 25
# An id is shown as its prefix and this many characters; the whole id is in its title.
SHORT_ID_CHARS = 6


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, its number (from 1) and how many pages there are."""

    items: list[dict[str, Any]]
    number: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def matches(batch: dict[str, Any], query: str) -> bool:
    """True when `query` (case-insensitive) is in the batch's name, reference or id."""
    needle = query.strip().casefold()
    if not needle:
        return True
    fields = (batch.get("name"), batch.get("reference"), batch.get("id"))
    return any(needle in str(value or "").casefold() for value in fields)


def page_of(batches: list[dict[str, Any]], query: str, number: int, size: int = PAGE_SIZE) -> Page:
    """The batches matching `query`, page `number` of them (clamped to the pages there are)."""
    found = [batch for batch in batches if matches(batch, query)]
    pages = max(1, -(-len(found) // size))
    number = min(max(number, 1), pages)
    start = (number - 1) * size
    return Page(found[start : start + size], number, pages, len(found))


_SCALES = ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k"))


def compact(value: Any) -> str:
    """A count in at most 4 characters: 999, 1.2k, 12k, 123k, 1M; other values as they are."""
    if not isinstance(value, int) or isinstance(value, bool):
        return "—" if value is None else str(value)
    for index, (limit, suffix) in enumerate(_SCALES):
        if abs(value) < limit:
            continue
        scaled = value / limit
        # 1.2k but 12k: a decimal only where it fits.
        text = f"{scaled:.1f}" if abs(scaled) < 10 else f"{scaled:.0f}"
        text = text.removesuffix(".0")
        if abs(float(text)) >= 1000 and index > 0:
            return ("-" if value < 0 else "") + "1" + _SCALES[index - 1][1]
        return text + suffix
    return str(value)


def short_id(batch_id: str) -> str:
    """`bat_1a2b3c…` for `bat_1a2b3c4d5e6f`; ids short enough already are unchanged."""
    prefix, _, rest = batch_id.partition("_")
    if not rest or len(rest) <= SHORT_ID_CHARS + 1:
        return batch_id
    return f"{prefix}_{rest[:SHORT_ID_CHARS]}…"
