"""The reject reasons of a batch, counted from its download.

Ingest has no route that counts a batch's rejected rows by reason, and ingest is
not the gateway's to change; its download carries `cleanse_reject_reason` on
every row, so the batch page reads the download once and counts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field

REASON_COLUMN = "cleanse_reject_reason"
EXAMPLES = 3
_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RejectSummary:
    """Rejected rows by reason, most frequent first, with up to 3 example cells each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, example: str | None) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        kept = self.examples.setdefault(reason, [])
        if example and len(kept) < EXAMPLES:
            kept.append(example)

    @property
    def reasons(self) -> list[tuple[str, int, list[str]]]:
        """`(reason, count, examples)`, the most frequent first."""
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return [(reason, count, self.examples.get(reason, [])) for reason, count in ordered]


def _delimiter_of(header_line: str) -> str:
    """The delimiter that makes `cleanse_reject_reason` a column of the header (`,` if none)."""
    for delimiter in _DELIMITERS:
        if REASON_COLUMN in next(csv.reader([header_line], delimiter=delimiter), []):
            return delimiter
    return ","


def summarise(lines: Iterable[str], phone_column: str | int | None) -> RejectSummary:
    """Count a download's rows by `cleanse_reject_reason` (lines as text, header first).

    The examples are the rows' phone cells (the column named, or numbered, `phone_column`).
    """
    summary = RejectSummary()
    stream = iter(lines)
    first = next(stream, "").lstrip("\ufeff")
    delimiter = _delimiter_of(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    if REASON_COLUMN not in header:
        return summary
    reason_at = header.index(REASON_COLUMN)
    phone_at = _column_index(header, phone_column)
    for row in csv.reader(stream, delimiter=delimiter):
        reason = row[reason_at].strip() if len(row) > reason_at else ""
        if reason:
            example = row[phone_at] if phone_at is not None and len(row) > phone_at else None
            summary.add(reason, example)
    return summary


def _column_index(header: list[str], column: str | int | None) -> int | None:
    if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
        return int(column)
    return header.index(column) if column in header else None


async def text_lines(chunks: AsyncIterable[bytes]) -> list[str]:
    """Decode a UTF-8 byte stream into lines (their ends kept, as `csv.reader` wants)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text: list[str] = []
    async for chunk in chunks:
        text.append(decoder.decode(chunk))
    text.append(decoder.decode(b"", final=True))
    return list(io.StringIO("".join(text), newline=""))
