"""A webhook registered through the public API receives the sample batch's `batch.finished`,
signed so that it verifies under Standard Webhooks with the secret the API returned."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.stack import Stack, start_stack
from tests.e2e.test_pipeline import SAMPLE, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.mongo, pytest.mark.sip]

Received = list[tuple[dict[str, str], bytes]]


@pytest.fixture
def stack(tmp_path: Path, peer_env: dict[str, str]) -> Iterator[Stack]:
    running = start_stack(tmp_path, peer_env)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    """A plain HTTP receiver on the loopback that records every POST and answers 204."""
    received: Received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()


def test_a_registered_webhook_receives_the_sample_batch_finished(
    stack: Stack, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    account = stack.create_account("Hook Centre", "hooks@example.com", "e2e-password", credit=1000)
    api = httpx.Client(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {account['api_key']}"},
        timeout=30,
    )
    registered = api.post("/api/v1/webhooks", json={"url": url, "events": ["batch.finished"]})
    assert registered.status_code == 201, registered.text
    secret = registered.json()["secret"]
    with SAMPLE.open("rb") as handle:
        created = api.post(
            "/api/v1/batches",
            files={"file": ("sample-leads.csv", handle, "text/csv")},
            data={"name": "Hooked", "reference": "e2e-hook", "phone_column": "phone"},
        )
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]

    wait_for(lambda: received, 240, "the batch.finished webhook")
    [(headers, body)] = received
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "batch.finished"
    assert payload["data"]["batch_id"] == batch_id
    assert payload["data"]["processed"] == payload["data"]["accepted"]
    [delivery] = api.get(f"/api/v1/webhooks/{registered.json()['id']}/deliveries").json()[
        "deliveries"
    ]
    assert delivery["id"] == headers["webhook-id"]
    assert delivery["state"] == "delivered"
