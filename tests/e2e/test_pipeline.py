"""One CSV through the whole system: gateway → ingest → scheduler → prober (real SIP to the
carrier simulator) → classifier → ingest, billing, notifier; then counters and the download."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Stack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.mongo, pytest.mark.sip]

SAMPLE = Path("deploy/local/sample-leads.csv")
# What the carrier simulator's default rules (by last digit) make of each sample row.
EXPECTED_STATUS = {
    "0412 345 670": "connected",
    "(04) 1234 5671": "connected",
    "+61 412 345 672": "connected",
    "0412-345-673": "disconnected",
    "61412345674": "disconnected",
    "0412 345 675": "connected",
    "(02) 9876 5436": "indeterminate",
    "03 9123 4567": "disconnected",
    "+61 8 9321 4508": "indeterminate",
    "0412 345 679": "connected",
}
EXPECTED_REJECTS = {
    "duplicate": 1,
    "contains_letters": 1,
    "emergency_or_short_code": 1,
    "premium_rate": 1,
    "too_short": 1,
    "no_number": 1,
}


@pytest.fixture
def stack(tmp_path: Path, peer_env: dict[str, str]) -> Iterator[Stack]:
    running = start_stack(tmp_path, peer_env)
    try:
        yield running
    finally:
        running.stop()


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_sample_batch_travels_the_whole_pipeline(stack: Stack) -> None:
    account = stack.create_account("E2E Centre", "e2e@example.com", "e2e-password", credit=1000)
    api = httpx.Client(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {account['api_key']}"},
        timeout=30,
    )
    with SAMPLE.open("rb") as handle:
        created = api.post(
            "/api/v1/batches",
            files={"file": ("sample-leads.csv", handle, "text/csv")},
            data={
                "name": "Sample",
                "reference": "e2e-1",
                "phone_column": "phone",
                "default_region": "AU",
            },
        )
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]

    def finished() -> dict | None:  # type: ignore[type-arg]
        response = api.get(f"/api/v1/batches/{batch_id}")
        assert response.status_code == 200, response.text
        batch = response.json()
        return batch if batch["status"] == "finished" else None

    try:
        batch = wait_for(finished, 120, "the batch to finish")
    except AssertionError:
        print("\n".join(stack.log(n) for n in stack.processes))
        raise

    assert batch["imported"] == 16
    assert batch["accepted"] == 10
    assert batch["rejected"] == 6
    assert batch["connected"] == 5
    assert batch["disconnected"] == 3
    assert batch["indeterminate"] == 2
    assert batch["retry"] == 0
    assert batch["processed"] == 10
    assert batch["remaining"] == 0
    assert batch["imported"] == batch["accepted"] + batch["rejected"]
    assert batch["client"] == "E2E Centre"

    download = api.get(f"/api/v1/batches/{batch_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    # UTF-8 with a BOM, so that Excel shows accents.
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    original = list(csv.reader(SAMPLE.open(newline="")))
    assert rows[0][: len(original[0])] == original[0]
    assert rows[0][len(original[0]) :] == [
        "cleanse_status",
        "cleanse_e164",
        "cleanse_detail",
        "cleanse_confidence",
        "cleanse_attempts",
        "cleanse_tested_at",
        "cleanse_reject_reason",
        "cleanse_line_type",
        "cleanse_evidence",
    ]
    assert len(rows) == len(original)
    status_at = rows[0].index("cleanse_status")
    reject_counts: dict[str, int] = {}
    for got, sent in zip(rows[1:], original[1:], strict=True):
        cells = got[: len(sent)]
        # Cells a spreadsheet would run as a formula come back with a leading quote.
        assert [c.removeprefix("'") for c in cells] == sent
        phone = sent[2]
        if phone in EXPECTED_STATUS and got[status_at] != "rejected":
            assert got[status_at] == EXPECTED_STATUS[phone], (phone, got)
            assert got[status_at + 5], "tested_at is set"
        else:
            assert got[status_at] == "rejected", (phone, got)
            code = got[status_at + 2]
            reject_counts[code] = reject_counts.get(code, 0) + 1
            assert got[status_at + 6], "a rejected row says why"
    assert reject_counts == EXPECTED_REJECTS

    # Billing follows the verdicts on its own consumer: await its last deduction.
    balance = wait_for(
        lambda: (b := api.get("/api/v1/billing/balance").json())["balance"] <= 1000 - 10 and b,
        timeout=60,
        what="billing to charge every final lead",
    )
    assert balance["balance"] == 1000 - 10

    # The notifier mails the account once the batch is finished, with its download link.
    def final_mails() -> list[EmailMessage]:
        mails = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted((stack.workdir / "mail").glob("*.eml"))
        ]
        return [m for m in mails if m["Subject"] == "Batch finished: Sample"]

    (final,) = wait_for(final_mails, timeout=60, what="the batch-finished email")
    assert final["To"] == "e2e@example.com"
    body = final.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"/batches/{batch_id}/download" in body.get_content()
