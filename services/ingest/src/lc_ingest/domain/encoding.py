"""Text encoding detection for uploaded CSV files, and rejection of files that are not text.

Order of decisions: empty file; a known binary format (ZIP/Excel/PDF/...); a byte order
mark; the whole file is valid UTF-8; otherwise charset-normalizer on a sample.
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import IO, Final

from charset_normalizer import from_bytes
from charset_normalizer.utils import is_multi_byte_encoding

SAMPLE_BYTES: Final = 64 * 1024
_CHUNK_BYTES: Final = 1024 * 1024

# Codec error handler name: cp1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90,
# 0x9D); real "ANSI" files still contain them, so read those as Latin-1 instead of failing.
CP1252_ERRORS: Final = "lc_cp1252_latin1"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(CP1252_ERRORS, _latin1_fallback)


class UnreadableFile(Exception):
    """The upload cannot be read as CSV; `reason` is a sentence meant for the client.

    `line` is the physical line (from 1) where reading failed, when that is known.
    """

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"Line {line}: {reason}")
        self.reason = reason
        self.line = line


_SAVE_AS_CSV: Final = "open it in your spreadsheet, save it as CSV and upload again"

# (magic bytes at offset 0, what the client is told it is)
_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"PK\x05\x06", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"PK\x07\x08", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel workbook (.xls) or Word file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "a rich-text (RTF) document"),
)

# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(binary: IO[bytes]) -> str:
    """Return the Python codec name to read `binary` with, or raise `UnreadableFile`.

    The whole file is read once (in 1 MiB chunks) to confirm UTF-8, so a stray Latin-1
    byte deep in a large file is not discovered half-way through an import. Leaves the
    stream positioned at 0.
    """
    binary.seek(0)
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    refuse_known_binary(sample)
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if b"\x00" not in sample:
        bad_offset = _first_invalid_utf8(binary)
        if bad_offset is None:
            return "utf-8"
        # Sample near the first non-UTF-8 byte: the leading sample may be plain ASCII.
        binary.seek(max(0, bad_offset - SAMPLE_BYTES // 2))
        sample = binary.read(SAMPLE_BYTES)
        binary.seek(0)
    return _guess_legacy(sample)


def refuse_known_binary(sample: bytes) -> None:
    """Raise `UnreadableFile` for an empty file or a known binary format (ZIP, Excel, PDF,
    gzip, images...), named for the client."""
    if not sample:
        raise UnreadableFile("The file is empty.")
    for magic, what in _SIGNATURES:
        if sample.startswith(magic):
            raise UnreadableFile(f"The file looks like {what}, not CSV: {_SAVE_AS_CSV}.")


def chosen_encoding(binary: IO[bytes], name: str) -> str:
    """The codec the client chose for `binary`, checked: a known text codec, and not a
    known binary format; raises `UnreadableFile` otherwise. With a UTF-8 or UTF-16 BOM,
    the BOM-aware codec is used so the BOM is not read as a character."""
    binary.seek(0)
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    refuse_known_binary(sample)
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise UnreadableFile(f"{name!r} is not a text encoding this service knows.") from None
    if not getattr(info, "_is_text_encoding", True):
        raise UnreadableFile(f"{name!r} is not a text encoding.")
    if info.name == "utf-8" and sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if info.name in ("utf-16-le", "utf-16-be") and sample[:2] in (
        codecs.BOM_UTF16_LE,
        codecs.BOM_UTF16_BE,
    ):
        return "utf-16"
    return info.name


def _first_invalid_utf8(binary: IO[bytes]) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None when the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        while chunk := binary.read(_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return offset + max(0, error.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return max(0, offset - 4)
        return None
    finally:
        binary.seek(0)


def _guess_legacy(sample: bytes) -> str:
    best = from_bytes(sample).best()
    if best is None:
        raise UnreadableFile(f"The file is not a text file: {_SAVE_AS_CSV}.")
    equivalents = set(best.could_be_from_charset) | {best.encoding}
    # Bias to cp1252: on a short sample, e.g. cp1250 and cp1252 decode "José" the same.
    # We only get here when the bytes are not UTF-8, so an "ascii"/"utf_8" guess is wrong too.
    if equivalents & {"cp1252", "latin_1", "iso8859_15", "ascii", "utf_8"}:
        return "cp1252"
    if is_multi_byte_encoding(best.encoding):  # UTF-16 without BOM, Shift-JIS, GBK, ...
        return codecs.lookup(best.encoding).name
    # A guess like cp1256 wins over cp1252 when one byte is undefined in cp1252; if nearly
    # every letter still decodes as Latin, it is a Western file with a stray byte.
    letters = [ch for ch in str(best) if ch.isalpha()]
    foreign = sum(not unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    if foreign * 20 <= len(letters):
        return "cp1252"
    return codecs.lookup(best.encoding).name


def errors_for(encoding: str) -> str:
    """The codec error mode to decode `encoding` with (see `CP1252_ERRORS`)."""
    return CP1252_ERRORS if encoding == "cp1252" else "strict"


def looks_binary(text: str) -> bool:
    """True when decoded text is full of control characters, i.e. not a spreadsheet export."""
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n") or ch == "\x7f")
    return controls > max(2, len(text) // 100)


__all__ = [
    "SAMPLE_BYTES",
    "UnreadableFile",
    "chosen_encoding",
    "detect_encoding",
    "errors_for",
    "looks_binary",
    "refuse_known_binary",
]
