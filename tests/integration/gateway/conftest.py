"""The gateway on a real port, with the real store and stand-ins for ingest and billing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from tests.integration.gateway.standins import (
    TOKEN,
    BillingState,
    IngestState,
    NotifierState,
    billing_app,
    ingest_app,
    listening_socket,
    notifier_app,
    serving,
)

from lc_gateway.accounts import AccountService
from lc_gateway.bootstrap import Gateway
from lc_gateway.config import GatewaySettings
from lc_gateway.domain.accounts import CreatedAccount
from lc_gateway.main import create_app

UPLOAD_LIMIT = 1_000_000
PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    """A running gateway and what stands behind it."""

    url: str
    app: FastAPI
    settings: GatewaySettings
    ingest: IngestState
    billing: BillingState
    notifier: NotifierState

    @property
    def accounts(self) -> AccountService:
        gateway: Gateway = self.app.state.gateway
        return gateway.accounts

    async def new_account(self, name: str) -> CreatedAccount:
        email = f"{name.lower().replace(' ', '.')}@example.com"
        return await self.accounts.create_account(name=name, email=email, password=PASSWORD)


@pytest.fixture
def gateway_env(
    mongodb_uri: str, isolation: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The store of this session and a database of this test's own, in the environment."""
    env = {
        "MONGODB_URI": mongodb_uri,
        "LC_MONGODB_DATABASE": isolation["LC_MONGODB_DATABASE"],
        "LC_ENVIRONMENT": "test",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def gateway_settings(
    public_url: str, ingest_url: str, billing_url: str, **overrides: Any
) -> GatewaySettings:
    fields: dict[str, Any] = {
        "ingest_url": ingest_url,
        "billing_url": billing_url,
        "public_url": public_url,
        "internal_token": SecretStr(TOKEN),
        "session_secret": SecretStr("test-session-secret"),
        "insecure_cookies": True,
        "max_upload_bytes": UPLOAD_LIMIT,
        **overrides,
    }
    return GatewaySettings(**fields)


@asynccontextmanager
async def running_stack(**overrides: Any) -> AsyncIterator[Stack]:
    """A gateway with stand-ins behind it; `overrides` are settings of the gateway."""
    ingest, billing, notifier = IngestState(), BillingState(), NotifierState()
    async with (
        serving(ingest_app(ingest)) as ingest_url,
        serving(billing_app(billing)) as bill,
        serving(notifier_app(notifier)) as notifier_url,
    ):
        sock = listening_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        fields = {"notifier_url": notifier_url, **overrides}
        settings = gateway_settings(url, ingest_url, bill, **fields)
        app = create_app(settings)
        async with serving(app, sock):
            yield Stack(url, app, settings, ingest, billing, notifier)


@pytest.fixture
async def stack(gateway_env: dict[str, str]) -> AsyncIterator[Stack]:
    async with running_stack() as running:
        yield running


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        yield http


def csrf_token_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def log_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Log into the panel with `http`'s cookie jar; the session's CSRF token."""
    page = await http.get("/login")
    response = await http.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token_of(page.text)},
    )
    assert response.status_code == 303, response.text
    return csrf_token_of((await http.get("/batches")).text)
