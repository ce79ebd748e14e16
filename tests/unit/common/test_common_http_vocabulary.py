"""Every internal API answers the same failure with the same code, the one that
docs/internal-apis.md writes down. Each service's app is built in-process (no
lifespan, so no peers): the failures below are refused before any peer is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from lc_billing.config import BillingSettings
from lc_billing.main import create_app as billing_app
from lc_common.http import (
    ACCOUNT_HEADER,
    ACCOUNT_REQUIRED,
    INTERNAL_TOKEN_HEADER,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    UNAUTHORIZED,
    VOCABULARY,
)
from lc_gateway.config import GatewaySettings
from lc_gateway.main import create_app as gateway_app
from lc_ingest.config import IngestSettings
from lc_ingest.main import create_app as ingest_app
from lc_notifier.config import NotifierSettings
from lc_notifier.main import create_app as notifier_app
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.main import create_app as scheduler_app

DOC = Path(__file__).parents[3] / "docs" / "internal-apis.md"
TOKEN = "vocabulary-test-internal-token"
GOOD = {INTERNAL_TOKEN_HEADER: TOKEN}
ACCOUNT = {INTERNAL_TOKEN_HEADER: TOKEN, ACCOUNT_HEADER: "acc_0123"}


def documented_vocabulary() -> list[tuple[int, str]]:
    """The `| status | code | when |` rows under "Error codes every internal API answers"."""
    section = DOC.read_text().split("### Error codes every internal API answers", 1)[1]
    rows = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", section.split("\n## ", 1)[0], re.M)
    return [(int(status), code) for status, code in rows]


def test_the_documented_vocabulary_is_the_one_in_code() -> None:
    assert documented_vocabulary() == list(VOCABULARY)


def billing() -> FastAPI:
    app = billing_app(BillingSettings(internal_token=TOKEN))
    app.state.runtime = SimpleNamespace(deps=None)  # never reached: refused before
    return app


def notifier() -> FastAPI:
    app = notifier_app(NotifierSettings(internal_token=TOKEN))
    app.state.runtime = SimpleNamespace(webhooks=None)  # never reached: refused before
    return app


def ingest() -> FastAPI:
    app = ingest_app(IngestSettings(internal_token=TOKEN))
    app.state.runtime = SimpleNamespace()  # never reached: refused before
    return app


def scheduler() -> FastAPI:
    return scheduler_app(SchedulerSettings(internal_token=TOKEN))


class NoSessions:
    """The gateway's session middleware, for calls without a cookie: none to open or save."""

    async def open(self, token: str | None) -> None:
        return None

    async def save(self, record: object, data: dict[str, object]) -> None:
        return None


def gateway() -> FastAPI:
    app = gateway_app(GatewaySettings(internal_token=TOKEN))
    app.state.gateway = SimpleNamespace(sessions=NoSessions())  # the rest is never reached
    return app


Case = tuple[str, Callable[[], FastAPI], str, str, dict[str, str], object, int, str]

CASES: list[Case] = [
    ("billing", billing, "GET", "/internal/v1/balance", {}, None, 401, UNAUTHORIZED),
    ("billing", billing, "GET", "/internal/v1/balance", GOOD, None, 400, ACCOUNT_REQUIRED),
    ("billing", billing, "POST", "/internal/v1/reservations", GOOD, {}, 422, INVALID_REQUEST),
    ("billing", billing, "GET", "/internal/v1/nothing", GOOD, None, 404, NOT_FOUND),
    ("billing", billing, "DELETE", "/internal/v1/price", GOOD, None, 405, METHOD_NOT_ALLOWED),
    ("notifier", notifier, "GET", "/internal/v1/webhooks", {}, None, 401, UNAUTHORIZED),
    ("notifier", notifier, "GET", "/internal/v1/webhooks", GOOD, None, 400, ACCOUNT_REQUIRED),
    ("notifier", notifier, "POST", "/internal/v1/webhooks", ACCOUNT, {}, 422, INVALID_REQUEST),
    ("notifier", notifier, "GET", "/internal/v1/nothing", GOOD, None, 404, NOT_FOUND),
    ("notifier", notifier, "PUT", "/internal/v1/webhooks", GOOD, None, 405, METHOD_NOT_ALLOWED),
    ("ingest", ingest, "GET", "/internal/v1/batches", {}, None, 401, UNAUTHORIZED),
    ("ingest", ingest, "GET", "/internal/v1/batches", GOOD, None, 400, ACCOUNT_REQUIRED),
    ("ingest", ingest, "POST", "/internal/v1/leads/states", GOOD, {}, 422, INVALID_REQUEST),
    ("ingest", ingest, "GET", "/internal/v1/nothing", GOOD, None, 404, NOT_FOUND),
    ("ingest", ingest, "PUT", "/internal/v1/batches", GOOD, None, 405, METHOD_NOT_ALLOWED),
    ("scheduler", scheduler, "POST", "/internal/v1/redrive", {}, None, 401, UNAUTHORIZED),
    ("scheduler", scheduler, "GET", "/internal/v1/redrive", {}, None, 401, UNAUTHORIZED),
    ("scheduler", scheduler, "GET", "/internal/v1/nothing", GOOD, None, 404, NOT_FOUND),
    ("scheduler", scheduler, "PUT", "/internal/v1/redrive", GOOD, None, 405, METHOD_NOT_ALLOWED),
    ("gateway", gateway, "GET", "/internal/v1/accounts/acc_0123", {}, None, 401, UNAUTHORIZED),
    (
        "gateway",
        gateway,
        "POST",
        "/internal/v1/accounts/acc_1",
        GOOD,
        None,
        405,
        METHOD_NOT_ALLOWED,
    ),
]


@pytest.mark.parametrize(
    ("service", "build", "method", "path", "headers", "body", "status", "code"),
    CASES,
    ids=[f"{case[0]}-{case[6]}-{case[2]}" for case in CASES],
)
async def test_every_service_answers_the_documented_code(
    service: str,
    build: Callable[[], FastAPI],
    method: str,
    path: str,
    headers: dict[str, str],
    body: object,
    status: int,
    code: str,
) -> None:
    assert (status, code) in documented_vocabulary()
    transport = httpx.ASGITransport(build())
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        answer = await client.request(method, path, headers=headers, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_the_scheduler_standing_by_says_so() -> None:
    transport = httpx.ASGITransport(scheduler())
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as client:
        answer = await client.post("/internal/v1/redrive", headers=GOOD)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "standby"


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (billing, "/internal/v1/balance"),
        (ingest, "/internal/v1/batches"),
        (notifier, "/internal/v1/webhooks"),
        (scheduler, "/internal/v1/redrive"),
        (gateway, "/internal/v1/accounts/acc_0123"),
    ],
)
async def test_a_wrong_token_is_refused_like_a_missing_one(
    build: Callable[[], FastAPI], path: str
) -> None:
    wrong = {INTERNAL_TOKEN_HEADER: TOKEN + "x", ACCOUNT_HEADER: "acc_0123"}
    transport = httpx.ASGITransport(build())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get(path, headers=wrong)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, UNAUTHORIZED)
