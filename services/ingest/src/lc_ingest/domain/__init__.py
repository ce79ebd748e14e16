"""Import domain logic: reading uploaded CSVs, checking numbers, dedupe, the download CSV.

Pure: no I/O besides reading the binary upload handed in.
"""

from .csv_reader import (
    DELIMITERS,
    CsvDocument,
    Preview,
    open_csv,
    preview,
    suggest_phone_column,
)
from .dedupe import DuplicateDetector
from .download import (
    RESULT_COLUMNS,
    CleanseStatus,
    LeadResult,
    download_lines,
    header_line,
    neutralise,
    row_line,
)
from .encoding import UnreadableFile
from .numbers import (
    Accepted,
    NumberCheck,
    RejectCode,
    Rejected,
    check_number,
    duplicate_of,
)

__all__ = [
    "DELIMITERS",
    "RESULT_COLUMNS",
    "Accepted",
    "CleanseStatus",
    "CsvDocument",
    "DuplicateDetector",
    "LeadResult",
    "NumberCheck",
    "Preview",
    "RejectCode",
    "Rejected",
    "UnreadableFile",
    "check_number",
    "download_lines",
    "duplicate_of",
    "header_line",
    "neutralise",
    "open_csv",
    "preview",
    "row_line",
    "suggest_phone_column",
]
