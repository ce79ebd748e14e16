"""Import domain logic: reading uploaded CSVs, checking numbers, dedupe, the download CSV.

Pure: no I/O besides reading the binary upload handed in.
"""

from .columns import resolve_phone_column, suggest_phone_column
from .csv_reader import DELIMITERS, CsvDocument, Overrides, open_csv
from .dedupe import DuplicateDetector
from .download import (
    RESULT_COLUMNS,
    CleanseStatus,
    LeadResult,
    download_lines,
    header_line,
    row_line,
)
from .encoding import UnreadableFile
from .formula import is_formula, neutralise
from .numbers import (
    Accepted,
    NumberCheck,
    RejectCode,
    Rejected,
    check_number,
    duplicate_of,
)
from .preview import DryRun, Preview, RejectedBy, preview

__all__ = [
    "DELIMITERS",
    "RESULT_COLUMNS",
    "Accepted",
    "CleanseStatus",
    "CsvDocument",
    "DryRun",
    "DuplicateDetector",
    "LeadResult",
    "NumberCheck",
    "Overrides",
    "Preview",
    "RejectCode",
    "Rejected",
    "RejectedBy",
    "UnreadableFile",
    "check_number",
    "download_lines",
    "duplicate_of",
    "header_line",
    "is_formula",
    "neutralise",
    "open_csv",
    "preview",
    "resolve_phone_column",
    "row_line",
    "suggest_phone_column",
]
