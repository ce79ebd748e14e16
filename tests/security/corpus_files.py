"""The hostile-input corpus: how each file is made.

Small files are committed under `corpus/` (run `python -m tests.security.corpus_files` to
write them again, byte for byte); oversize ones (`GENERATED`) are made at test time in a
temporary directory, so the repository holds no megabytes.
"""

from __future__ import annotations

import codecs
import gzip
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"

HEADER = "name,phone,note\n"
GOOD = "Jo,0412 345 670,a\nAl,+61 2 9374 4000,b\nBo,0412345671,c\n"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return out.getvalue()


def _xlsx() -> bytes:
    """The smallest shape of an Excel workbook: a ZIP holding the OOXML parts."""
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"/>',
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<worksheet><sheetData/></worksheet>",
        }
    )


def _random_bytes(size: int) -> bytes:
    return random.Random(13).randbytes(size)


SMALL: dict[str, Callable[[], bytes]] = {
    "empty.csv": lambda: b"",
    "whitespace_only.csv": lambda: b"  \n\n \t \r\n\n",
    "header_only.csv": lambda: HEADER.encode(),
    "binary_random.csv": lambda: _random_bytes(4096),
    "nul_bytes.csv": lambda: (HEADER + "Jo,0412\x00345670,a\n" + GOOD).encode(),
    "control_chars.csv": lambda: ("\x01\x02\x03\x04\x05\x06" * 50 + "\n" + GOOD).encode(),
    "utf16le_no_bom.csv": lambda: (HEADER + GOOD).encode("utf-16-le"),
    "utf16_bom.csv": lambda: (HEADER + "Zoé," + GOOD[3:]).encode("utf-16"),
    "utf32_bom.csv": lambda: (HEADER + GOOD).encode("utf-32"),
    "utf8_bom_cp1252_body.csv": lambda: (
        codecs.BOM_UTF8 + (HEADER + "Zoé,0412 345 670,café\n" + GOOD).encode("cp1252")
    ),
    "cp1252_semicolon.csv": lambda: (
        "Nom;Téléphone;Ville\nZoé;0412 345 670;Montréal\nÉric;0412 345 671;Québec\n"
    ).encode("cp1252"),
    "columns_1001.csv": lambda: (
        ",".join(f"c{i}" for i in range(1001)) + "\n" + ",".join(["0412345670"] * 1001) + "\n"
    ).encode(),
    "formulas_everywhere.csv": lambda: (
        b"=name,@phone,+note,-x\n"
        b"=cmd|' /C calc'!A0,0412 345 670,@SUM(1+1),-2+3\n"
        b"+cmd|' /C calc'!A0,+61412345671,\t=1+1,=HYPERLINK(\"http://evil.example\")\n"
        b"Al,=0412345672,-12,+61 2 9374 4000\n"
        b'Bo,0412345673,"\r=1",@A1\n'
    ),
    "eol_lf.csv": lambda: (HEADER + GOOD).encode(),
    "eol_crlf.csv": lambda: (HEADER + GOOD).replace("\n", "\r\n").encode(),
    "eol_cr.csv": lambda: (HEADER + GOOD).replace("\n", "\r").encode(),
    "eol_mixed.csv": lambda: (
        b"name,phone,note\r\nJo,0412 345 670,a\nAl,+61 2 9374 4000,b\rBo,0412345671,c\r\n"
    ),
    "quote_open_at_end.csv": lambda: b'0412345670,"unterminated\n0412345671,ok\n',
    "quote_swallows_rows.csv": lambda: (
        HEADER + 'Jo,0412 345 670,"starts here\nAl,0412 345 671,b\nBo,0412345672,c"\n'
    ).encode(),
    "multiline_address.csv": lambda: (
        b'name,address,phone\nJo,"12 Main St\nSydney NSW",0412 345 670\n'
        b'Al,"1 ""Quoted"" Rd",0412 345 671\n'
    ),
    "duplicate_headers.csv": lambda: (
        b"phone,phone,name\n0412 345 670,0299999999,Jo\n0412 345 671,x,Al\n"
    ),
    "duplicate_numbers.csv": lambda: (
        HEADER + "Jo,0412 345 670,a\nAl,+61412345670,b\nBo,61 412 345 670,c\n"
    ).encode(),
    "blank_lines.csv": lambda: (HEADER + "\n" + GOOD.replace("\n", "\n\n , , \n")).encode(),
    "zip_archive.csv": lambda: _zip({"leads.csv": (HEADER + GOOD).encode()}),
    "gzip_file.csv": lambda: gzip.compress((HEADER + GOOD).encode(), mtime=0),
    "xlsx_renamed.csv": _xlsx,
    "pdf_renamed.csv": lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "png_renamed.csv": lambda: b"\x89PNG\r\n\x1a\n" + bytes(64),
    "invisible_in_numbers.csv": lambda: (
        "name,phone\n"
        "zwsp,04\u200b12 345 670\n"
        "rlm,\u200f0412 345 671\n"
        "bidi,\u202b0412 345 672\u202c\n"
        "zwj,0412\u200d345\u200c673\n"
        "nbsp,0412\u00a0345\u00a0674\n"
        "thin,0412\u2009345\u202f675\n"
        "bom,\ufeff0412345676\n"
    ).encode(),
    "extensions_and_letters.csv": lambda: (
        b"name,phone\n"
        b"ext,0412 345 673 ext. 12\n"
        b"x,0412 345 674 x34\n"
        b"rfc,+61412345675;ext=56\n"
        b"hash,0412 345 676 #78\n"
        b"vanity,1800-FLOWERS\n"
        b"letters,0412 ABC 678\n"
        b"words,call me maybe\n"
    ),
    "unsafe_numbers.csv": lambda: (
        b"name,phone\nsos,000\nsos2,112\npremium,1900 123 456\nsci,6.14123E+11\n"
        b"short,0412 345\nlong,0412 345 678 9012\nsat,+881 6 1234 5678\nok,0412345670\n"
    ),
    "not_csv_html.csv": lambda: b"<html><body><h1>Leads</h1><p>none here</p></body></html>\n",
    "rtl_override_in_text.csv": lambda: (
        "name,phone\n\u202egnp.exe,0412 345 670\nJo\u200b,0412 345 671\n"
    ).encode(),
}


def long_line(directory: Path) -> Path:
    """A 1 MiB line on line 3."""
    path = directory / "line_1mib.csv"
    path.write_bytes((HEADER + "Jo,0412345670,a\n").encode() + b"x" * 2**20 + b"\n")
    return path


def columns_100k(directory: Path) -> Path:
    """A header of 100,000 columns."""
    path = directory / "columns_100k.csv"
    path.write_bytes(
        ",".join(f"c{i}" for i in range(100_000)).encode()
        + b"\n"
        + b"0412345670"
        + b"," * 99_999
        + b"\n"
    )
    return path


def oversize(directory: Path, size: int) -> Path:
    """A valid CSV just over `size` bytes."""
    path = directory / "oversize.csv"
    row = b"Jo,0412345670,padding padding padding padding padding padding\n"
    with path.open("wb") as out:
        out.write(HEADER.encode())
        written = len(HEADER)
        while written <= size:
            out.write(row)
            written += len(row)
    return path


GENERATED: dict[str, Callable[[Path], Path]] = {
    "line_1mib.csv": long_line,
    "columns_100k.csv": columns_100k,
}


def write_corpus(directory: Path = CORPUS) -> None:
    """Write every small corpus file into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in SMALL.items():
        (directory / name).write_bytes(make())


if __name__ == "__main__":
    write_corpus()
