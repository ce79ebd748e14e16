"""How answers are shown: rich tables for people, the API's JSON for scripts (`--json`)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadcleanser.client import LeadCleanserError

STATUS_LABELS = {"paused_no_credit": "paused (no credit)"}
# The counters of a batch, in the order of DESIGN.md's Batches tab.
COUNTERS = (
    "imported",
    "accepted",
    "rejected",
    "connected",
    "disconnected",
    "indeterminate",
    "retry",
    "processed",
    "remaining",
)


def status_label(status: str) -> str:
    """A batch status as people read it (`paused_no_credit` → `paused (no credit)`)."""
    return STATUS_LABELS.get(status, status)


def format_time(value: str | None, tz: tzinfo | None = None) -> str:
    """An API time (ISO 8601) as `YYYY-MM-DD HH:MM` in `tz` (the local zone when None).

    Empty for None; the text unchanged when it is not a time.
    """
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: float) -> str:
    """A duration as people say it: `45s`, `3m 05s`, `2h 07m`, `1d 4h`."""
    whole = max(round(seconds), 0)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_units(balance: dict[str, Any]) -> str:
    """A balance as `1,000 CU`."""
    return f"{int(balance.get('balance', 0)):,} {balance.get('unit', 'CU')}"


def batches_table(batches: list[dict[str, Any]]) -> Table:
    """Every batch in one row each: id, name, reference, submitted, status and counters."""
    table = Table(show_edge=False, header_style="bold")
    table.add_column("Batch Id", no_wrap=True)
    table.add_column("Name")
    table.add_column("Reference")
    table.add_column("Submitted", no_wrap=True)
    table.add_column("Status")
    for counter in ("accepted", "processed", "remaining", "connected", "disconnected"):
        table.add_column(counter.capitalize(), justify="right")
    table.add_column("Indet.", justify="right")
    for batch in batches:
        table.add_row(
            escape(str(batch.get("id", ""))),
            escape(str(batch.get("name", ""))),
            escape(str(batch.get("reference", ""))),
            format_time(batch.get("submitted_at")),
            escape(status_label(str(batch.get("status", "")))),
            *(
                f"{int(batch.get(c, 0)):,}"
                for c in (
                    "accepted",
                    "processed",
                    "remaining",
                    "connected",
                    "disconnected",
                    "indeterminate",
                )
            ),
        )
    return table


def batch_table(batch: dict[str, Any]) -> Table:
    """One batch as a two-column table of its fields and counters."""
    table = Table(show_header=False, show_edge=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str]] = [
        ("Batch Id", str(batch.get("id", ""))),
        ("Client", str(batch.get("client", ""))),
        ("Name", str(batch.get("name", ""))),
        ("Reference", str(batch.get("reference", ""))),
        ("File", str(batch.get("filename") or "")),
        ("Status", status_label(str(batch.get("status", "")))),
        ("Paused", "yes" if batch.get("paused") else "no"),
        ("Submitted", format_time(batch.get("submitted_at"))),
        ("Finished", format_time(batch.get("finished_at"))),
    ]
    if batch.get("failure_reason"):
        rows.append(("Failure", str(batch["failure_reason"])))
    rows += [(c.capitalize(), f"{int(batch.get(c, 0)):,}") for c in COUNTERS]
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


def emit_json(value: Any) -> None:
    """Write `value` to stdout as JSON (what `--json` prints)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def error_json(error: LeadCleanserError) -> dict[str, Any]:
    """An error in the API's own shape, `{"error": {"code", "message"}}` (plus the status)."""
    detail: dict[str, Any] = {"code": error.code, "message": error.message}
    status = getattr(error, "status", None)
    if status is not None:
        detail["status"] = status
    return {"error": detail}


def show_error(error: LeadCleanserError, as_json: bool, console: Console) -> None:
    """Report an error on stderr: as JSON for scripts, else one readable line."""
    if as_json:
        sys.stderr.write(json.dumps(error_json(error)) + "\n")
        return
    console.print(f"[red]Error[/] ({escape(error.code)}): {escape(error.message)}", highlight=False)
