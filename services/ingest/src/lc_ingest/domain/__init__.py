"""Ingest's domain: batches and leads and the rules of their progress (`batch`, `lead`,
`imports`), reading uploaded CSVs, checking numbers, dedupe, writing the results CSV.

Pure: no I/O besides reading the binary upload handed in.
"""

from .batch import Batch, BatchStatus, Counters, processed
from .columns import resolve_phone_column, suggest_phone_column
from .csv_reader import DELIMITERS, CsvDocument, Overrides, open_csv
from .csv_writer import (
    RESULT_COLUMNS,
    CleanseStatus,
    LeadResult,
    download_lines,
    header_line,
    row_line,
)
from .dedupe import DuplicateDetector
from .encoding import UnreadableFile
from .formula import is_formula, neutralise
from .lead import Lead, LeadSummary, apply_verdict, lead_id
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
    "Batch",
    "BatchStatus",
    "CleanseStatus",
    "Counters",
    "CsvDocument",
    "DryRun",
    "DuplicateDetector",
    "Lead",
    "LeadResult",
    "LeadSummary",
    "NumberCheck",
    "Overrides",
    "Preview",
    "RejectCode",
    "Rejected",
    "RejectedBy",
    "UnreadableFile",
    "apply_verdict",
    "check_number",
    "download_lines",
    "duplicate_of",
    "header_line",
    "is_formula",
    "lead_id",
    "neutralise",
    "open_csv",
    "preview",
    "processed",
    "resolve_phone_column",
    "row_line",
    "suggest_phone_column",
]
