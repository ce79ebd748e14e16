"""What the import wizard shows before a batch exists: the detected format with the first
rows, and, once the phone column is chosen, a dry run of the whole file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Final

from .columns import resolve_phone_column, suggest_phone_column
from .csv_reader import HEADER_SAMPLE_ROWS, Overrides, open_csv
from .dedupe import DuplicateDetector
from .numbers import Accepted, RejectCode, check_number

MAX_EXAMPLES: Final = 3
_EXAMPLE_CHARS: Final = 64


@dataclass(frozen=True, slots=True)
class RejectedBy:
    """One reason rows would be rejected: its code, how many rows, a few example cells."""

    reason: str
    count: int
    examples: list[str]


@dataclass(frozen=True, slots=True)
class DryRun:
    """What importing the file with this phone column would give (the importer's rules:
    blank rows skipped, a number seen before is a duplicate). `rejected` includes the
    duplicates, as the batch's Rejected counter does."""

    rows: int
    accepted: int
    rejected: int
    duplicates: int
    rejected_by_reason: list[RejectedBy] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Preview:
    """What the import form shows before the client confirms. `phone_column` is the chosen
    column's index when one was given, else the suggestion (None if nothing fits)."""

    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    rows: list[list[str]]
    suggested_phone_column: int | None
    dry_run: DryRun | None = None


def preview(
    binary: IO[bytes],
    n: int = 10,
    default_region: str = "AU",
    *,
    overrides: Overrides | None = None,
    phone_column: str | None = None,
) -> Preview:
    """Detected (or overridden) format, header and the first `n` data rows of an upload.

    Without `phone_column`, the phone-column suggestion looks at up to 50 rows. With it,
    no other column is checked, and `dry_run` covers the whole file, streamed: memory is
    the duplicate detector's (tens of bytes per distinct number) and the reasons' few
    examples. Raises `UnreadableFile` (also when `phone_column` names no column).
    """
    document = open_csv(binary, overrides)
    sample: list[list[str]] = []
    rows = document.rows()
    wanted = n if phone_column else max(n, HEADER_SAMPLE_ROWS)
    try:
        for _, cells in rows:
            sample.append(cells)
            if len(sample) >= wanted:
                break
    finally:
        rows.close()
    dry_run = None
    column: int | None
    if phone_column:
        column = resolve_phone_column(phone_column, document.header, None)
        dry_run = count_rows(document.rows(), column, default_region)
    else:
        column = suggest_phone_column(document.header, sample, default_region)
    return Preview(
        encoding=document.encoding,
        delimiter=document.delimiter,
        has_header=document.has_header,
        header=document.header,
        rows=sample[:n],
        suggested_phone_column=column,
        dry_run=dry_run,
    )


def count_rows(rows: Iterable[tuple[int, list[str]]], column: int, region: str) -> DryRun:
    """Judge every row's phone cell as the import would and count the outcomes."""
    dedupe = DuplicateDetector()
    counts: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    total = accepted = 0
    for row, cells in rows:
        total += 1
        raw = cells[column] if column < len(cells) else ""
        check = check_number(raw, region)
        if isinstance(check, Accepted):
            if dedupe.first_seen(check.e164, row) is None:
                accepted += 1
                continue
            code = RejectCode.DUPLICATE.value
        else:
            code = check.code.value
        counts[code] = counts.get(code, 0) + 1
        kept = examples.setdefault(code, [])
        if len(kept) < MAX_EXAMPLES:
            kept.append(raw[:_EXAMPLE_CHARS])
    by_reason = [
        RejectedBy(reason=code, count=count, examples=examples[code])
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return DryRun(
        rows=total,
        accepted=accepted,
        rejected=total - accepted,
        duplicates=counts.get(RejectCode.DUPLICATE.value, 0),
        rejected_by_reason=by_reason,
    )


__all__ = ["DryRun", "Preview", "RejectedBy", "count_rows", "preview"]
