"""The Import page: preview a CSV, then submit it as a batch.

The form's multipart body is streamed to ingest as it comes; its CSRF token is
the form's first field (read ahead of the file) or, when the page's script
previews, a header.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lc_gateway.auth import GatewayDep
from lc_gateway.bootstrap import Gateway
from lc_gateway.panel.common import PanelAccount, check_token, flash, redirect, render
from lc_gateway.uploads import Upload, open_upload

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)


def _is_fetch(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


async def _checked_upload(request: Request, gateway: Gateway) -> Upload:
    upload = await open_upload(request, gateway.settings.max_upload_bytes)
    check_token(request, upload.form.csrf_token)
    return upload


@router.get("/import")
async def import_page(request: Request, account: PanelAccount) -> Response:
    return render(request, "import.html", {"preview": None}, account=account)


@router.post("/import/preview")
async def preview(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    upload = await _checked_upload(request, gateway)
    result: dict[str, Any] = await gateway.ingest.preview(
        account.id, upload.body, upload.content_type
    )
    if _is_fetch(request):
        return render(request, "_preview.html", {"preview": result}, account=account)
    return render(request, "import.html", {"preview": result, "reselect": True}, account=account)


@router.post("/import")
async def submit(request: Request, account: PanelAccount, gateway: GatewayDep) -> Response:
    upload = await _checked_upload(request, gateway)
    batch = await gateway.ingest.create_batch(account.id, upload.body, upload.content_type)
    log.info("batch_created", batch_id=batch.get("id"))
    flash(request, "ok", f"Batch {batch.get('name') or batch.get('id')} submitted.")
    return redirect("/batches")
