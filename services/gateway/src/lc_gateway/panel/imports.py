"""The Import wizard: file → format (detected, with overrides) → phone column → dry run → confirm.

Every step posts the same form, file included, to `/import/preview`: ingest reads
the file again with the choices made so far, and from the phone column on its
answer has a dry run over the whole file, to which the gateway adds the cost.
The page's script sends the form in the background and swaps in the next step,
so the chosen file stays selected; without script each step is a page, and the
file is chosen again (a browser never refills a file field). The multipart body
is streamed to ingest as it comes; its CSRF token is the form's first field
(read ahead of the file) or, from the script, a header.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.bootstrap import Gateway
from lc_gateway.dry_run import with_cost
from lc_gateway.edge.auth import GatewayDep
from lc_gateway.edge.uploads import Upload, open_upload
from lc_gateway.panel.common import PanelAccount, check_token, flash, redirect, render

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

STEPS = ("file", "format", "column", "summary")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "mac-roman")
DELIMITER_NAMES = {",": "comma (,)", ";": "semicolon (;)", "\t": "tab", "|": "pipe (|)"}


def _is_fetch(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


async def _checked_upload(request: Request, gateway: Gateway) -> Upload:
    upload = await open_upload(request, gateway.settings.max_upload_bytes)
    check_token(request, upload.form.csrf_token)
    return upload


def columns_of(preview: dict[str, Any]) -> list[dict[str, Any]]:
    """The file's columns as the wizard offers them: value to send, label, sample cells."""
    rows: list[list[str]] = preview.get("rows") or []
    header: list[str] = preview.get("header") or []
    width = max([len(header), *(len(row) for row in rows)], default=0)
    columns = []
    for index in range(width):
        name = header[index] if preview.get("has_header") and index < len(header) else None
        samples = [row[index] for row in rows[:3] if index < len(row) and row[index].strip()]
        columns.append(
            {
                "value": name if name else str(index),
                "label": name if name else f"Column {index + 1}",
                "samples": samples,
            }
        )
    return columns


def _wizard(preview: dict[str, Any] | None, fields: dict[str, str], step: str) -> dict[str, Any]:
    suggested = preview.get("suggested_phone_column") if preview else None
    chosen = fields.get("phone_column") or ("" if suggested is None else str(suggested))
    return {
        "preview": preview,
        "step": step if step in STEPS else "file",
        "fields": fields,
        "chosen_column": chosen,
        "columns": columns_of(preview) if preview else [],
        "encodings": ENCODINGS,
        "delimiters": DELIMITER_NAMES,
    }


@router.get("/import")
async def import_page(request: Request, account: PanelAccount) -> Response:
    return render(request, "import.html", _wizard(None, {}, "file"), account=account)


@router.post("/import/preview")
async def preview(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    """One step of the wizard: the form so far → the next step's page (or fragment)."""
    upload = await _checked_upload(request, gateway)
    result = await gateway.ingest.preview(account.id, upload.body, upload.content_type)
    result = await with_cost(gateway.billing, account.id, result)
    fields = upload.form.fields
    step = "summary" if "dry_run" in result else ("column" if "encoding" in fields else "format")
    context = _wizard(result, fields, step)
    if _is_fetch(request):
        return render(request, "_wizard.html", context, account=account)
    return render(request, "import.html", {**context, "reselect": True}, account=account)


@router.post("/import")
async def submit(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    upload = await _checked_upload(request, gateway)
    batch = await gateway.ingest.create_batch(account.id, upload.body, upload.content_type)
    log.info("batch_created", batch_id=batch.get("id"))
    flash(request, "ok", f"Batch {batch.get('name') or batch.get('id')} submitted.")
    return redirect("/batches")
