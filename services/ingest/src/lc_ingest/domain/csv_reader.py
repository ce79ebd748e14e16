"""Streaming reader for uploaded lead CSV files.

`open_csv` inspects a leading sample once (encoding, delimiter, header) and returns a
`CsvDocument` whose `rows()` streams the data rows lazily from the binary upload, so a
file of hundreds of MB is never held in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Final

import clevercsv

from .encoding import (
    SAMPLE_BYTES,
    UnreadableFile,
    detect_encoding,
    errors_for,
    looks_binary,
)
from .numbers import Accepted, check_number

DELIMITERS: Final = (",", ";", "\t", "|")
MAX_LINE_CHARS: Final = 1024 * 1024
# A quoted field may hold a newline (a street address), but a record spanning more lines
# than this is an unbalanced quote swallowing the rows below it.
MAX_LINES_PER_ROW: Final = 50
_HEADER_SAMPLE_ROWS: Final = 50

# Process-wide by nature (the csv module has no per-reader limit); the default 128 KiB is
# lower than our own per-line guard, which gives the clearer error.
csv.field_size_limit(MAX_LINE_CHARS + 1)

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


class CsvDocument:
    """An opened upload: detected format plus a lazy, re-iterable view of its data rows.

    Attributes: `encoding` (Python codec name, e.g. "utf-8", "utf-8-sig", "utf-16",
    "cp1252"), `delimiter`, `has_header`, and `header` (the header row's cells, or
    synthesised "Column 1", "Column 2", ... when the file has none).
    """

    def __init__(
        self,
        binary: IO[bytes],
        *,
        encoding: str,
        delimiter: str,
        has_header: bool,
        header: list[str],
    ) -> None:
        self._binary = binary
        self.encoding = encoding
        self.delimiter = delimiter
        self.has_header = has_header
        self.header = header

    def rows(self) -> Generator[tuple[int, list[str]], None, None]:
        """Yield `(row_number, cells)` for each data row, numbered from 1.

        The header row and blank rows (every cell empty or whitespace) are skipped and not
        numbered. Each call re-reads from the start of the file; do not interleave two
        iterations over one document. Raises `UnreadableFile` (with `line` set) on a line
        over 1 MiB, a quote that never closes, or bytes invalid in the detected encoding.
        """
        self._binary.seek(0)
        text = io.TextIOWrapper(
            self._binary, encoding=self.encoding, errors=errors_for(self.encoding), newline=""
        )
        try:
            yield from self._parse(text)
        finally:
            # The wrapper would close the caller's file when garbage-collected.
            text.detach()

    def _parse(self, text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=self.delimiter, quotechar='"', doublequote=True)
        header_pending = self.has_header
        row_number = 0
        while True:
            start = lines.count + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise UnreadableFile(f"The CSV is malformed ({error}).", line=start) from error
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"The file contains bytes that are not valid {self.encoding} text.",
                    line=lines.count + 1,
                ) from error
            if lines.count - start + 1 > MAX_LINES_PER_ROW:
                raise UnreadableFile(
                    "A quoted field starting on this line never closes: check for a stray "
                    'double quote (") in this row.',
                    line=start,
                )
            if _is_blank(cells):
                continue
            if header_pending:
                header_pending = False
                continue
            row_number += 1
            yield row_number, cells


class _Lines:
    """Physical lines of a text stream, counted, each at most `MAX_LINE_CHARS` long."""

    __slots__ = ("_text", "count")

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.count = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > MAX_LINE_CHARS:
            raise UnreadableFile(
                "The line is longer than 1 MiB: this does not look like a list of leads.",
                line=self.count,
            )
        return line


def open_csv(binary: IO[bytes]) -> CsvDocument:
    """Inspect a seekable binary upload and return a `CsvDocument` over it.

    The whole stream is the upload (it is read from offset 0). Raises `UnreadableFile`
    when the file is empty, binary (ZIP/Excel/PDF/...), undecodable, or has no data rows.
    """
    encoding = detect_encoding(binary)
    sample = _text_sample(binary, encoding)
    if not sample:
        raise UnreadableFile("The file is empty.")
    if looks_binary(sample):
        raise UnreadableFile(
            "The file is not a text file: open it in your spreadsheet, save it as CSV and "
            "upload again."
        )
    delimiter = detect_delimiter(sample)
    sample_rows = _sample_rows(sample, delimiter)
    if not sample_rows:
        raise UnreadableFile("No data rows found: the file has no rows with a value in them.")
    has_header = detect_header(sample_rows)
    if has_header:
        header = list(sample_rows[0])
    else:
        width = max(len(row) for row in sample_rows)
        header = [f"Column {i}" for i in range(1, width + 1)]
    document = CsvDocument(
        binary, encoding=encoding, delimiter=delimiter, has_header=has_header, header=header
    )
    rows = document.rows()
    try:
        next(rows)
    except StopIteration:
        raise UnreadableFile("No data rows found: the file has a header row only.") from None
    finally:
        rows.close()
    return document


def _text_sample(binary: IO[bytes], encoding: str) -> str:
    """Decoded leading sample, cut after its last line break when the file is longer."""
    binary.seek(0)
    raw = binary.read(SAMPLE_BYTES)
    complete = not binary.read(1)
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors_for(encoding))
    try:
        text = decoder.decode(raw, final=complete)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"The file is not readable text (it is not valid {encoding})."
        ) from error
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[: cut + 1]
    return text


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    """The first non-blank records of the sample (parse errors end the sample early)."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar='"')
    try:
        for cells in reader:
            if not _is_blank(cells):
                rows.append(cells)
                if len(rows) >= _HEADER_SAMPLE_ROWS:
                    break
    except csv.Error:
        pass
    return rows


def detect_delimiter(sample: str) -> str:
    """The delimiter among `,` `;` tab `|` for a text sample; `,` for a single column.

    The quote character is always `"`: clevercsv may propose `'`, but a lone apostrophe is
    common in lead data (O'Brien, or Excel's `'0412...` text prefix) and would swallow rows.
    """
    found = clevercsv.Detector().detect(sample, delimiters=list(DELIMITERS))
    if found is not None and found.delimiter in DELIMITERS:
        return str(found.delimiter)
    return _delimiter_by_count(sample)


def _delimiter_by_count(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    best, best_score = ",", 0
    for candidate in DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if counts and min(counts) > 0 and len(set(counts)) == 1 and counts[0] > best_score:
            best, best_score = candidate, counts[0]
    return best


def detect_header(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first of these sample rows is a header row.

    A first row holding a phone-like value is data. Otherwise it is a header when a column
    holds phone-like values below it, or when it uses typical column names; failing both,
    clevercsv's type-based guess decides.
    """
    if not rows:
        return False
    first, rest = rows[0], rows[1:]
    if any(_is_phoneish(cell) for cell in first):
        return False
    if not rest:
        return True
    width = max(len(row) for row in rest)
    for column in range(width):
        values = [row[column] for row in rest if column < len(row) and row[column].strip()]
        if values and sum(map(_is_phoneish, values)) * 2 >= len(values):
            return True
    if any(_words(cell) & _HEADER_WORDS for cell in first):
        return True
    sample = "\n".join(",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in r) for r in rows)
    return bool(clevercsv.Detector().has_header(sample + "\n"))


def _is_phoneish(cell: str) -> bool:
    return _PHONEISH.fullmatch(cell) is not None and sum(c.isdigit() for c in cell) >= 6


def _words(cell: str) -> set[str]:
    return set(_WORD.findall(cell.lower()))


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def suggest_phone_column(
    header: Sequence[str], rows: Sequence[Sequence[str]], default_region: str = "AU"
) -> int | None:
    """Index of the column most likely to hold the phone numbers, or None if none fits.

    Score per column: the share of its non-empty sample values that are acceptable phone
    numbers, plus 1 for a name like phone/mobile/tel/cell, or 0.5 for number/contact.
    """
    width = max([len(header), *(len(row) for row in rows)], default=0)
    best: int | None = None
    best_score = 0.0
    for column in range(width):
        name = _words(header[column]) if column < len(header) else set()
        score = 1.0 if name & _STRONG_PHONE_WORDS else 0.5 if name & _WEAK_PHONE_WORDS else 0.0
        values = [row[column] for row in rows if column < len(row) and row[column].strip()]
        if values:
            valid = sum(isinstance(check_number(v, default_region), Accepted) for v in values)
            score += valid / len(values)
        if score > best_score:
            best, best_score = column, score
    return best


@dataclass(frozen=True, slots=True)
class Preview:
    """What the import form shows before the client picks the phone column."""

    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    rows: list[list[str]]
    suggested_phone_column: int | None


def preview(binary: IO[bytes], n: int = 10, default_region: str = "AU") -> Preview:
    """Detected format, header and the first `n` data rows of an upload.

    The phone-column suggestion looks at up to 50 rows, more than are returned.
    """
    document = open_csv(binary)
    sample: list[list[str]] = []
    rows = document.rows()
    try:
        for _, cells in rows:
            sample.append(cells)
            if len(sample) >= max(n, _HEADER_SAMPLE_ROWS):
                break
    finally:
        rows.close()
    return Preview(
        encoding=document.encoding,
        delimiter=document.delimiter,
        has_header=document.has_header,
        header=document.header,
        rows=sample[:n],
        suggested_phone_column=suggest_phone_column(document.header, sample, default_region),
    )


__all__ = [
    "DELIMITERS",
    "CsvDocument",
    "Preview",
    "UnreadableFile",
    "detect_delimiter",
    "detect_header",
    "open_csv",
    "preview",
    "suggest_phone_column",
]
