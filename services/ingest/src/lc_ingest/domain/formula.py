"""The download's formula guard (OWASP "CSV Injection"): which cells a spreadsheet would run.

A cell is quoted (a leading `'`) only when Excel, LibreOffice or Google Sheets would
evaluate it as a formula on opening the CSV:

- it starts with `=` or `@`, a tab, CR or LF, or the full-width forms of = + - @ (after any
  leading spaces, which spreadsheets skip);
- it starts with `+` or `-` and what follows is not a number as people write one. A
  number is digits with spaces, dots, dashes, slashes and brackets between them
  (`+61293744000`, `+61 2 9374 4000`, `-12.5`, `+1 (650) 253-0000`), and, when the
  download's delimiter is not `,`, with the decimal comma of the locales that export
  `;` (`-1,5`). Anything else after the sign (`-2+3`, `+cmd|' /C calc'!A0`, `-A1`,
  `+SUM(1)`) is a formula.

Numbers are never altered: an E.164 number (ours in `cleanse_e164`, or the client's) is
not a formula. A cell holding the delimiter, a quote or a line break is always quoted
by the CSV writer, so a formula after an embedded delimiter never starts a cell of its
own.
"""

from __future__ import annotations

import re
from typing import Final

_ALWAYS: Final = ("=", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_SIGNS: Final = ("+", "-")
_NUMBER: Final = re.compile(r"[0-9][0-9 .\-/()]*")
_NUMBER_DECIMAL_COMMA: Final = re.compile(r"[0-9][0-9 .,\-/()]*")
_OPEN_BRACKET_NUMBER: Final = re.compile(r"\([0-9][0-9 .\-/()]*")


def is_formula(cell: str, delimiter: str = ",") -> bool:
    """True when a spreadsheet opening the CSV (with this delimiter) would evaluate `cell`."""
    text = cell.lstrip(" ")
    if not text:
        return False
    if text.startswith(_ALWAYS):
        return True
    if not text.startswith(_SIGNS):
        return False
    rest = text[1:]
    number = _NUMBER if delimiter == "," else _NUMBER_DECIMAL_COMMA
    return not (number.fullmatch(rest) or _OPEN_BRACKET_NUMBER.fullmatch(rest))


def neutralise(cell: str, delimiter: str = ",") -> str:
    """The cell with a leading `'` if a spreadsheet would evaluate it, else unchanged."""
    return "'" + cell if is_formula(cell, delimiter) else cell


__all__ = ["is_formula", "neutralise"]
