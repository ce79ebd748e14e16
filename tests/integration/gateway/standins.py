"""Minimal real stand-ins for ingest and billing, speaking docs/internal-apis.md.

They are FastAPI apps served by uvicorn on real ports, so the gateway talks to
them over HTTP exactly as it talks to the real services. Each records what it
received so tests can check what went through the gateway.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

TOKEN = "standin-internal-token"
DOWNLOAD_CHUNK = 64 * 1024
DOWNLOAD_CHUNKS = 24


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def download_chunk(batch_id: str, index: int) -> bytes:
    """The index-th chunk of a batch's download: deterministic, so a test can rebuild it."""
    line = f"{batch_id},+6129{index:06d},connected\n".encode()
    return (line * (DOWNLOAD_CHUNK // len(line) + 1))[:DOWNLOAD_CHUNK]


def expected_download(batch_id: str) -> bytes:
    return b"".join(download_chunk(batch_id, i) for i in range(DOWNLOAD_CHUNKS))


@dataclass
class Upload:
    """One multipart body ingest received."""

    path: str
    account_id: str
    content_type: str
    raw_sha256: str
    raw_size: int
    file_sha256: str
    fields: dict[str, str]


@dataclass
class IngestState:
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    download_params: list[dict[str, str]] = field(default_factory=list)
    # A batch's download body, where a test gives one (otherwise the deterministic chunks).
    download_bodies: dict[str, bytes] = field(default_factory=dict)
    # When set, a download waits after its first chunk until the event is set.
    hold_download: asyncio.Event | None = None
    download_finished: asyncio.Event = field(default_factory=asyncio.Event)
    # When set, a batch creation waits (after reading the upload) until the event is set.
    hold_create: asyncio.Event | None = None
    create_started: asyncio.Event = field(default_factory=asyncio.Event)

    def add_batch(self, account_id: str, name: str = "Seed", status: str = "running") -> str:
        batch_id = f"bat_{uuid.uuid4().hex[:16]}"
        self.batches[batch_id] = new_batch(batch_id, account_id, name, "ref-1", 10, status)
        return batch_id


def new_batch(
    batch_id: str, account_id: str, name: str, reference: str, imported: int, status: str
) -> dict[str, Any]:
    return {
        "id": batch_id,
        "account_id": account_id,
        "name": name,
        "reference": reference,
        "filename": "leads.csv",
        "status": status,
        "paused": status == "paused",
        "failure_reason": None,
        "submitted_at": datetime.now(UTC).isoformat(),
        "finished_at": None,
        "imported": imported,
        "accepted": imported - 1,
        "rejected": 1,
        "connected": 3,
        "disconnected": 2,
        "indeterminate": 0,
        "retry": 1,
        "processed": 5,
        "remaining": imported - 6,
        "phone_column": "phone",
        "default_region": "AU",
    }


def dry_run(cells: list[str]) -> dict[str, Any]:
    """C1's dry run, by a stand-in's rule: digits only, 8 to 12 of them, once."""
    seen: set[str] = set()
    reasons: dict[str, list[str]] = {}
    duplicates = 0
    for cell in cells:
        digits = cell.replace(" ", "").lstrip("+")
        if not digits.isdigit() or not 8 <= len(digits) <= 12:
            reasons.setdefault("not a phone number", []).append(cell)
        elif digits in seen:
            duplicates += 1
            reasons.setdefault("duplicate", []).append(cell)
        else:
            seen.add(digits)
    rejected = sum(len(v) for v in reasons.values())
    return {
        "rows": len(cells),
        "accepted": len(cells) - rejected,
        "rejected": rejected,
        "duplicates": duplicates,
        "rejected_by_reason": [
            {"reason": reason, "count": len(examples), "examples": examples[:3]}
            for reason, examples in sorted(reasons.items(), key=lambda item: -len(item[1]))
        ],
    }


def _caller(request: Request) -> str | None:
    if request.headers.get("x-lc-internal-token") != TOKEN:
        return None
    return request.headers.get("x-lc-account-id") or None


async def _take_upload(request: Request, state: IngestState) -> tuple[Upload, bytes]:
    raw = await request.body()
    form = await request.form()
    upload = form.get("file")
    content = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    record = Upload(
        path=request.url.path,
        account_id=request.headers.get("x-lc-account-id", ""),
        content_type=request.headers.get("content-type", ""),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        raw_size=len(raw),
        file_sha256=hashlib.sha256(content).hexdigest(),
        fields={k: v for k, v in form.items() if isinstance(v, str)},
    )
    state.uploads.append(record)
    return record, content


def ingest_app(state: IngestState) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def internal_only(request: Request, call_next: Any) -> Response:
        if request.headers.get("x-lc-internal-token") != TOKEN:
            return error(401, "unauthorized", "internal token refused")
        response: Response = await call_next(request)
        return response

    @app.post("/internal/v1/imports/preview")
    async def preview(request: Request) -> Any:
        """Contract C1: overrides of the format; with `phone_column`, a dry run."""
        record, content = await _take_upload(request, state)
        fields = record.fields
        delimiter = fields.get("delimiter") or ","
        has_header = fields.get("has_header", "true") != "false"
        text = content.decode(fields.get("encoding") or "utf-8", "replace")
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        header = rows[0] if rows and has_header else []
        data = rows[1:] if has_header else rows
        phone = next((i for i, name in enumerate(header) if "phone" in name.lower()), None)
        answer: dict[str, Any] = {
            "encoding": fields.get("encoding") or "utf-8",
            "delimiter": delimiter,
            "has_header": has_header,
            "header": header,
            "rows": data[:5],
            "suggested_phone_column": header[phone] if phone is not None else None,
        }
        column = fields.get("phone_column")
        if column:
            at = int(column) if column.isdigit() else header.index(column)
            answer["dry_run"] = dry_run([row[at] if at < len(row) else "" for row in data])
        return answer

    @app.post("/internal/v1/batches", status_code=201)
    async def create(request: Request) -> Any:
        record, content = await _take_upload(request, state)
        if state.hold_create is not None:
            state.create_started.set()
            await state.hold_create.wait()
        batch_id = f"bat_{uuid.uuid4().hex[:16]}"
        rows = max(content.count(b"\n") - 1, 0)
        batch = new_batch(
            batch_id,
            record.account_id,
            record.fields.get("name", ""),
            record.fields.get("reference", ""),
            rows,
            "importing",
        )
        state.batches[batch_id] = batch
        return batch

    @app.get("/internal/v1/batches")
    async def listing(request: Request) -> Any:
        account_id = _caller(request)
        mine = [b for b in state.batches.values() if b["account_id"] == account_id]
        return {"batches": list(reversed(mine))}

    def owned(request: Request, batch_id: str) -> dict[str, Any] | None:
        batch = state.batches.get(batch_id)
        if batch is None or batch["account_id"] != _caller(request):
            return None
        return batch

    @app.get("/internal/v1/batches/{batch_id}")
    async def get(batch_id: str, request: Request) -> Any:
        batch = owned(request, batch_id)
        if batch is not None and "next_status" in batch:
            batch["status"] = batch.pop("next_status")
        return batch if batch else error(404, "batch_not_found", f"no batch {batch_id}")

    @app.patch("/internal/v1/batches/{batch_id}")
    async def patch(batch_id: str, request: Request) -> Any:
        batch = owned(request, batch_id)
        if batch is None:
            return error(404, "batch_not_found", f"no batch {batch_id}")
        paused = bool((await request.json())["paused"])
        batch["paused"] = paused
        status = "paused" if paused else "running"
        if batch.get("hold_status"):
            # As a real batch may: the status follows a moment later (on the next read).
            batch["next_status"] = status
            return {k: v for k, v in batch.items() if k not in ("hold_status", "next_status")}
        batch["status"] = status
        return batch

    @app.get("/internal/v1/batches/{batch_id}/download")
    async def download(batch_id: str, request: Request) -> Any:
        batch = owned(request, batch_id)
        if batch is None:
            return error(404, "batch_not_found", f"no batch {batch_id}")
        if batch["status"] == "deleted":
            return error(410, "batch_deleted", "the batch was deleted")
        state.download_params.append(dict(request.query_params))

        async def body() -> AsyncIterator[bytes]:
            if batch_id in state.download_bodies:
                yield state.download_bodies[batch_id]
                return
            for index in range(DOWNLOAD_CHUNKS):
                yield download_chunk(batch_id, index)
                if index == 0 and state.hold_download is not None:
                    await state.hold_download.wait()
            state.download_finished.set()

        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{batch_id}.csv"'},
        )

    return app


@dataclass
class BillingState:
    balances: dict[str, int] = field(default_factory=dict)
    transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    transaction_limits: list[int] = field(default_factory=list)
    receipts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def billing_app(state: BillingState) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def internal_only(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/internal/") and _caller(request) is None:
            return error(401, "unauthorized", "internal token refused")
        response: Response = await call_next(request)
        return response

    @app.get("/internal/v1/balance")
    async def balance(request: Request) -> Any:
        account_id = _caller(request) or ""
        balance = state.balances.get(account_id, 0)
        return {"account_id": account_id, "balance": balance, "unit": "CU"}

    @app.get("/internal/v1/transactions")
    async def transactions(request: Request) -> Any:
        """Contract C4: pages of `limit`, `next_cursor` the last row's id (rows newest first)."""
        rows = state.transactions.get(_caller(request) or "", [])
        limit = int(request.query_params.get("limit", "100"))
        state.transaction_limits.append(limit)
        cursor = request.query_params.get("cursor")
        start = next(i for i, r in enumerate(rows) if r["id"] == cursor) + 1 if cursor else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return {"transactions": page, "next_cursor": page[-1]["id"] if more else None}

    @app.get("/internal/v1/receipts")
    async def receipts(request: Request) -> Any:
        """Pages of `limit` receipts as transactions are; `next_cursor` the last row's id."""
        rows = state.receipts.get(_caller(request) or "", [])
        limit = int(request.query_params.get("limit", "100"))
        cursor = request.query_params.get("cursor")
        start = next(i for i, r in enumerate(rows) if r["id"] == cursor) + 1 if cursor else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return {"receipts": page, "next_cursor": page[-1]["id"] if more else None}

    @app.get("/internal/v1/price")
    async def price() -> Any:
        return {"unit": "CU", "unit_price_cents": 5, "currency": "AUD"}

    @app.post("/internal/v1/purchases", status_code=201)
    async def purchase(request: Request) -> Any:
        order = await request.json()
        purchase_id = f"pur_{uuid.uuid4().hex[:12]}"
        state.purchases.append({"account_id": _caller(request), "id": purchase_id, **order})
        return {
            "purchase_id": purchase_id,
            "status": "pending",
            "checkout_url": f"{str(request.base_url).rstrip('/')}/checkout/{purchase_id}",
        }

    @app.get("/checkout/{purchase_id}")
    async def checkout(purchase_id: str) -> Any:
        """The provider's hosted page, reduced to paying at once and sending the browser back."""
        order = next(p for p in state.purchases if p["id"] == purchase_id)
        account_id = order["account_id"]
        state.balances[account_id] = state.balances.get(account_id, 0) + order["units"]
        return RedirectResponse(order["return_url"], status_code=303)

    return app


@dataclass
class NotifierState:
    """The notifier's webhook endpoints per account (its internal webhook API)."""

    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_webhook(self, account_id: str, url: str = "https://hooks.example.com/in") -> str:
        webhook_id = f"wh_{uuid.uuid4().hex[:24]}"
        self.webhooks[webhook_id] = {
            "id": webhook_id,
            "account_id": account_id,
            "url": url,
            "events": ["batch.finished"],
            "created_at": datetime.now(UTC).isoformat(),
        }
        return webhook_id


def notifier_app(state: NotifierState) -> FastAPI:
    """The notifier's internal webhook API: an id of another account answers 404."""
    app = FastAPI()

    def public(hook: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in hook.items() if k != "account_id"}

    def owned(request: Request, webhook_id: str) -> dict[str, Any] | None:
        hook = state.webhooks.get(webhook_id)
        return hook if hook and hook["account_id"] == _caller(request) else None

    @app.middleware("http")
    async def internal_only(request: Request, call_next: Any) -> Response:
        if _caller(request) is None:
            return error(401, "unauthorized", "internal token refused")
        response: Response = await call_next(request)
        return response

    @app.post("/internal/v1/webhooks", status_code=201)
    async def create(request: Request) -> Any:
        body = await request.json()
        webhook_id = state.add_webhook(_caller(request) or "", body["url"])
        state.webhooks[webhook_id]["events"] = body["events"]
        return {**public(state.webhooks[webhook_id]), "secret": "whsec_c3RhbmQtaW4="}

    @app.get("/internal/v1/webhooks")
    async def listing(request: Request) -> Any:
        mine = [h for h in state.webhooks.values() if h["account_id"] == _caller(request)]
        return {"webhooks": [public(h) for h in mine]}

    @app.delete("/internal/v1/webhooks/{webhook_id}")
    async def delete(request: Request, webhook_id: str) -> Any:
        if owned(request, webhook_id) is None:
            return error(404, "webhook_not_found", "no such webhook in this account")
        del state.webhooks[webhook_id]
        return {"id": webhook_id, "deleted": True}

    @app.get("/internal/v1/webhooks/{webhook_id}/deliveries")
    async def deliveries(request: Request, webhook_id: str) -> Any:
        if owned(request, webhook_id) is None:
            return error(404, "webhook_not_found", "no such webhook in this account")
        return {"deliveries": []}

    @app.get("/internal/v1/webhook-deliveries")
    async def all_deliveries() -> Any:
        return {"deliveries": []}

    return app


def listening_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, for uvicorn to serve on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_address() -> str:
    """An address where nothing listens (the port is released before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve an app with uvicorn in this event loop (lifespan included); yield its base URL."""
    sock = sock or listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
