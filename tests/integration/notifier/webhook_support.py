"""A real HTTP receiver of webhooks for the notifier's tests: it records every request and
answers with the status codes it is given, in turn (then 200)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from tests.support import serving

from lc_localstack.peers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the receiver got, and the statuses it still has to answer with."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


def receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI()

    @app.post("/hooks/{name}")
    async def hook(name: str, request: Request) -> Response:
        receiver.received.append(Received(dict(request.headers), await request.body()))
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        return Response(status_code=status)

    return app


@asynccontextmanager
async def running_receiver(*statuses: int) -> AsyncIterator[Receiver]:
    receiver = Receiver(statuses=list(statuses))
    async with serving(receiver_app(receiver), free_port()) as base:
        receiver.url = f"{base}/hooks/in"
        yield receiver


def internal_headers(token: str, account_id: str) -> dict[str, Any]:
    return {"X-LC-Internal-Token": token, "X-LC-Account-Id": account_id}
