"""Guesses about an upload's columns: whether its first row is a header, and which column
holds the phone numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import clevercsv

from .encoding import UnreadableFile
from .numbers import Accepted, check_number

_PHONEISH: Final = re.compile(r"[\s\d+()\-./']+")
_HEADER_WORDS: Final = frozenset(
    {
        "phone", "mobile", "mob", "number", "num", "no", "tel", "telephone", "cell", "msisdn",
        "name", "first", "last", "surname", "given", "email", "mail", "address", "id",
        "company", "contact", "city", "state", "postcode", "zip", "country", "title", "notes",
    }
)  # fmt: skip
_STRONG_PHONE_WORDS: Final = frozenset(
    {"phone", "mobile", "mob", "tel", "telephone", "cell", "msisdn", "landline"}
)
_WEAK_PHONE_WORDS: Final = frozenset({"number", "num", "no", "contact", "ph"})
_WORD: Final = re.compile(r"[a-z]+")
_DIGIT: Final = re.compile(r"[0-9]")


def detect_header(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first of these sample rows is a header row.

    A first row holding a phone-like value is data. Otherwise it is a header when a column
    holds phone-like values below it, or when it uses typical column names; failing both,
    clevercsv's type-based guess decides.
    """
    if not rows:
        return False
    first, rest = rows[0], rows[1:]
    if any(is_phoneish(cell) for cell in first):
        return False
    if not rest:
        return True
    width = max(len(row) for row in rest)
    for column in range(width):
        values = [row[column] for row in rest if column < len(row) and row[column].strip()]
        if values and sum(map(is_phoneish, values)) * 2 >= len(values):
            return True
    if any(words(cell) & _HEADER_WORDS for cell in first):
        return True
    sample = "\n".join(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in r) for r in rows)
    return bool(clevercsv.Detector().has_header(sample + "\n"))


def is_phoneish(cell: str) -> bool:
    """A cheap look: digits and phone punctuation only, at least six digits."""
    return _PHONEISH.fullmatch(cell) is not None and sum(c.isdigit() for c in cell) >= 6


def words(cell: str) -> set[str]:
    """The lower-case words of a header cell."""
    return set(_WORD.findall(cell.lower()))


def suggest_phone_column(
    header: Sequence[str], rows: Sequence[Sequence[str]], default_region: str = "AU"
) -> int | None:
    """Index of the column most likely to hold the phone numbers, or None if none fits.

    Score per column: the share of its non-empty sample values that are acceptable phone
    numbers, plus 1 for a name like phone/mobile/tel/cell, or 0.5 for number/contact. A
    value with fewer than six digits is not checked (it cannot be a number), so a wide
    file of text costs a regular expression per cell, not a parse.
    """
    width = max([len(header), *(len(row) for row in rows)], default=0)
    best: int | None = None
    best_score = 0.0
    for column in range(width):
        name = words(header[column]) if column < len(header) else set()
        score = 1.0 if name & _STRONG_PHONE_WORDS else 0.5 if name & _WEAK_PHONE_WORDS else 0.0
        values = [row[column] for row in rows if column < len(row) and row[column].strip()]
        if values:
            valid = sum(
                len(_DIGIT.findall(v)) >= 6
                and isinstance(check_number(v, default_region), Accepted)
                for v in values
            )
            score += valid / len(values)
        if score > best_score:
            best, best_score = column, score
    return best


def resolve_phone_column(choice: str, header: Sequence[str], suggested: int | None) -> int:
    """The index of the phone column from the client's choice: a header name (any case),
    an index, or blank for `suggested`; raises `UnreadableFile` when it names no column."""
    choice = choice.strip()
    if not choice:
        if suggested is None:
            raise UnreadableFile("No column looks like phone numbers: choose the phone column.")
        return suggested
    folded = [h.strip().casefold() for h in header]
    if choice.casefold() in folded:
        return folded.index(choice.casefold())
    if choice.isdigit() and int(choice) < len(header):
        return int(choice)
    raise UnreadableFile(
        f"The phone column {choice!r} is not in the file; its columns are: {', '.join(header)}."
    )


__all__ = ["detect_header", "is_phoneish", "resolve_phone_column", "suggest_phone_column", "words"]
