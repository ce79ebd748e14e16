"""Streaming reader for uploaded lead CSV files.

`open_csv` inspects a leading sample once (encoding, delimiter, header; each may be
chosen by the client instead, `Overrides`) and returns a `CsvDocument` whose `rows()`
streams the data rows lazily from the binary upload, so a file of hundreds of MB is
never held in memory.

Limits before work: a line longer than `MAX_LINE_CHARS` or a row wider than
`MAX_COLUMNS` fails the file with its line number, before any costly detection or
number check runs over it.

A quote left open never merges rows silently: a record whose quote is still open at the
end of the file, that spans more than `MAX_LINES_PER_ROW` lines, or whose quoted text
holds a line with as many delimiters as a whole row (a swallowed row) fails the file
with the line where the quote opened. So `Imported` counts the rows a spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Final

import clevercsv

from .columns import detect_header, suggest_phone_column
from .encoding import (
    SAMPLE_BYTES,
    UnreadableFile,
    chosen_encoding,
    detect_encoding,
    errors_for,
    looks_binary,
)

DELIMITERS: Final = (",", ";", "\t", "|")
MAX_LINE_CHARS: Final = 64 * 1024
MAX_COLUMNS: Final = 1000
# A quoted field may hold a newline (a street address), but a record spanning more lines
# than this is an unbalanced quote swallowing the rows below it.
MAX_LINES_PER_ROW: Final = 50
HEADER_SAMPLE_ROWS: Final = 50

# Process-wide by nature (the csv module has no per-reader limit); the default 128 KiB is
# higher than our own per-line guard, which gives the clearer error.
csv.field_size_limit(max(MAX_LINE_CHARS * MAX_LINES_PER_ROW, 128 * 1024))

_OPEN_QUOTE: Final = (
    'A quoted field starting on this line never closes: check for a stray double quote (") '
    "in this row."
)


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the client chose instead of detection; None leaves it to detection."""

    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool | None = None


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
        over `MAX_LINE_CHARS`, a row over `MAX_COLUMNS` cells, a quote left open, or bytes
        invalid in the encoding.
        """
        self._binary.seek(0)
        text = io.TextIOWrapper(
            self._binary, encoding=self.encoding, errors=errors_for(self.encoding), newline=""
        )
        try:
            yield from self._parse(text)
        finally:
            # The wrapper would close the caller's file when garbage-collected; a generator
            # dropped after its caller closed the file has nothing left to detach.
            if not self._binary.closed:
                text.detach()

    def _parse(self, text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=self.delimiter, quotechar='"', doublequote=True)
        header_pending = self.has_header
        row_number = 0
        while True:
            start = lines.count + 1
            lines.record.clear()
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
            if len(lines.record) > 1:
                self._refuse_swallowed_rows(lines.record, start)
            elif lines.record and _quote_left_open(lines.record[0], self.delimiter):
                # Only the last line can end inside a quote and still be one record.
                raise UnreadableFile(_OPEN_QUOTE, line=start)
            if len(cells) > MAX_COLUMNS:
                raise _too_wide(start)
            if _is_blank(cells):
                continue
            if header_pending:
                header_pending = False
                continue
            row_number += 1
            yield row_number, cells

    def _refuse_swallowed_rows(self, record: Sequence[str], start: int) -> None:
        """A record over several lines is a quoted field holding line breaks: refuse it
        when the quote is left open, or when it swallowed what looks like whole rows."""
        if len(record) > MAX_LINES_PER_ROW or sum(line.count('"') for line in record) % 2:
            raise UnreadableFile(_OPEN_QUOTE, line=start)
        row_delimiters = max(1, len(self.header) - 1)
        for line in record[1:-1] if record[-1].count('"') else record[1:]:
            if '"' not in line and line.count(self.delimiter) >= row_delimiters:
                raise UnreadableFile(
                    "A quoted field starting on this line runs over the next lines, which "
                    'look like rows of their own: check for a stray double quote (") here.',
                    line=start,
                )


def _quote_left_open(line: str, delimiter: str) -> bool:
    """Whether the line ends inside a quoted field (a stray quote on the last line)."""
    if line.count('"') % 2 == 0:
        return False
    try:
        for _ in csv.reader([line], delimiter=delimiter, quotechar='"', strict=True):
            pass
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


class _Lines:
    """Physical lines of a text stream, counted, each at most `MAX_LINE_CHARS` long;
    `record` keeps the lines of the record being read."""

    __slots__ = ("_text", "count", "record")

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.count = 0
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > MAX_LINE_CHARS:
            raise _too_long(self.count)
        if len(self.record) <= MAX_LINES_PER_ROW:
            self.record.append(line)
        return line


def _too_long(line: int) -> UnreadableFile:
    return UnreadableFile(
        f"The line is longer than {MAX_LINE_CHARS // 1024} KiB: this does not look like a "
        "list of leads.",
        line=line,
    )


def _too_wide(line: int) -> UnreadableFile:
    return UnreadableFile(
        f"The row has more than {MAX_COLUMNS} columns: this does not look like a list of "
        "leads (is the delimiter right?).",
        line=line,
    )


def open_csv(binary: IO[bytes], overrides: Overrides | None = None) -> CsvDocument:
    """Inspect a seekable binary upload and return a `CsvDocument` over it.

    The whole stream is the upload (it is read from offset 0). What `overrides` sets is
    used instead of detection. Raises `UnreadableFile` when the file is empty, binary
    (ZIP/Excel/PDF/...), undecodable, too wide, has a line too long, or has no data rows.
    """
    chosen = overrides or Overrides()
    if chosen.delimiter is not None and chosen.delimiter not in DELIMITERS:
        raise UnreadableFile(f"The delimiter {chosen.delimiter!r} is not one of , ; tab |.")
    if chosen.encoding:
        encoding = chosen_encoding(binary, chosen.encoding)
    else:
        encoding = detect_encoding(binary)
    sample = _text_sample(binary, encoding)
    if not sample:
        raise UnreadableFile("The file is empty.")
    if looks_binary(sample):
        raise UnreadableFile(
            "The file is not a text file: open it in your spreadsheet, save it as CSV and "
            "upload again."
        )
    _refuse_wide_sample(sample)
    delimiter = chosen.delimiter or detect_delimiter(sample)
    sample_rows = _sample_rows(sample, delimiter)
    if not sample_rows:
        raise UnreadableFile("No data rows found: the file has no rows with a value in them.")
    has_header = chosen.has_header
    if has_header is None:
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


def _refuse_wide_sample(sample: str) -> None:
    """Before any detection: a sample line with more cells than `MAX_COLUMNS` for any
    delimiter fails the file (a first line over the length limit already did)."""
    for number, line in enumerate(sample.splitlines()[:HEADER_SAMPLE_ROWS], start=1):
        if any(line.count(d) >= MAX_COLUMNS for d in DELIMITERS):
            raise _too_wide(number)


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
        if cut < 0:
            raise _too_long(1)
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
                if len(rows) >= HEADER_SAMPLE_ROWS:
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


def _is_blank(cells: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in cells)


__all__ = [
    "DELIMITERS",
    "HEADER_SAMPLE_ROWS",
    "MAX_COLUMNS",
    "MAX_LINES_PER_ROW",
    "MAX_LINE_CHARS",
    "CsvDocument",
    "Overrides",
    "UnreadableFile",
    "detect_delimiter",
    "detect_header",
    "open_csv",
    "suggest_phone_column",
]
