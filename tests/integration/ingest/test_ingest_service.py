"""Ingest as a real HTTP service on the real store and broker: import, verdicts, pause,
download, failure of a broken file and retention."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from tests.support import serving, until

from lc_common.clock import ManualClock
from lc_common.events import BATCH_EVENTS, LEAD_VERDICTS, LEADS_ACCEPTED, Evidence, LeadVerdictV1
from lc_common.kafka import Publisher
from lc_ingest.config import IngestSettings
from lc_ingest.domain import RESULT_COLUMNS
from lc_ingest.main import create_app
from lc_localstack.peers import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]
TOKEN = "ingest-test-token"
CSV_LATIN1 = (
    "Nom;Téléphone;Ville\n"
    "Zoé;0412 345 670;Montréal\n"
    "Éric;+61 412 345 671;Québec\n"
    "\n"
    "Anaïs;0412 345 670;Nice\n"
    "Brigitte;not a number;Lyon\n"
).encode("latin-1")


def running_ingest(
    settings: IngestSettings, clock: ManualClock
) -> AbstractAsyncContextManager[str]:
    return serving(create_app(settings, clock), settings.http_port)


async def consume(settings: IngestSettings, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=settings.topic(f"reader-{topic}"),
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    values += [r.value for r in records]
    finally:
        await consumer.stop()
    return values


async def wait_batch(client: httpx.AsyncClient, batch_id: str, **expected: Any) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            batch: dict[str, Any] = (await client.get(f"/internal/v1/batches/{batch_id}")).json()
            if all(batch.get(k) == v for k, v in expected.items()):
                return batch
            await asyncio.sleep(0.2)


def verdict(
    batch: dict[str, Any], row: int, status: str, final: bool, attempt: int
) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id=batch["account_id"],
        batch_id=batch["id"],
        lead_id=f"{batch['id']}:{row:09d}",
        probe_id=f"p{row}-{attempt}",
        attempt=attempt,
        status=status,  # type: ignore[arg-type]
        final=final,
        detail="SIP 404 Not Found" if status == "disconnected" else "SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t", codes=[180], tested_at=datetime.now(UTC)),
    )


async def test_import_project_pause_download_and_retention(service_env: dict[str, str]) -> None:
    settings = IngestSettings(
        http_port=free_port(),
        internal_token=TOKEN,
        reconcile_interval_seconds=0.5,  # type: ignore[arg-type]
    )
    clock = ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"}
    async with (
        running_ingest(settings, clock) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
    ):
        created = await client.post(
            "/internal/v1/batches",
            files={"file": ("leads.csv", CSV_LATIN1, "text/csv")},
            data={"name": "French", "reference": "r1", "phone_column": "Téléphone"},
        )
        assert created.status_code == 201, created.text
        batch = await wait_batch(client, created.json()["id"], status="queued")
        assert (batch["imported"], batch["accepted"], batch["rejected"]) == (4, 2, 2)
        accepted = await consume(settings, LEADS_ACCEPTED.name, 2)
        assert len(accepted) == 2

        other = await client.get(
            f"/internal/v1/batches/{batch['id']}", headers={"X-LC-Account-Id": "acc_2"}
        )
        assert other.status_code == 404

        paused = await client.patch(f"/internal/v1/batches/{batch['id']}", json={"paused": True})
        assert paused.json()["status"] == "paused" and paused.json()["paused"] is True
        resumed = await client.patch(f"/internal/v1/batches/{batch['id']}", json={"paused": False})
        assert resumed.json()["status"] == "queued"

        publisher = Publisher(settings)
        await publisher.start()
        try:
            first = verdict(batch, 1, "connected", True, 1)
            await publisher.publish(LEAD_VERDICTS, first, key=first.lead_id)
            await publisher.publish(LEAD_VERDICTS, first, key=first.lead_id)  # redelivery
            retry = verdict(batch, 2, "indeterminate", False, 1)
            await publisher.publish(LEAD_VERDICTS, retry, key=retry.lead_id)
            await wait_batch(client, batch["id"], connected=1, retry=1, status="running")
            final = verdict(batch, 2, "disconnected", True, 2)
            await publisher.publish(LEAD_VERDICTS, final, key=final.lead_id)
            done = await wait_batch(client, batch["id"], status="finished")
        finally:
            await publisher.stop()
        assert (done["connected"], done["disconnected"], done["retry"]) == (1, 1, 0)
        assert (done["processed"], done["remaining"]) == (2, 0)
        kinds = await consume(settings, BATCH_EVENTS.name, 4)
        assert sum(b'"finished"' in k for k in kinds) == 1

        download = await client.get(f"/internal/v1/batches/{batch['id']}/download")
        assert download.content.startswith(codecs.BOM_UTF8)  # Excel shows the accents
        text = download.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))  # the client's
        assert rows[0][:3] == ["Nom", "Téléphone", "Ville"]
        assert rows[0][3:] == list(RESULT_COLUMNS)
        assert [r[0] for r in rows[1:]] == ["Zoé", "Éric", "Anaïs", "Brigitte"]
        assert [r[3] for r in rows[1:]] == ["connected", "disconnected", "rejected", "rejected"]
        assert [r[4] for r in rows[1:3]] == ["+61412345670", "+61412345671"]  # never quoted
        assert [r[10] for r in rows[1:]] == ["mobile", "mobile", "mobile", ""]  # line type
        # Evidence, attempt by attempt: "<time> <trunk> <codes>".
        assert [e.split(" ")[1:] for e in rows[2][11].split("; ")] == [["t", "180"]] * 2
        for tz in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
            today = datetime.now(ZoneInfo(tz)).date().isoformat()
            one_day = await client.get(
                f"/internal/v1/batches/{batch['id']}/download",
                params={"processed_on": today, "tz": tz},
            )
            assert len(list(csv.reader(io.StringIO(one_day.text)))) == 3, tz
            daily = await client.get("/internal/v1/daily", params={"date": today, "tz": tz})
            assert daily.json()["batches"][0]["processed"] == 2, tz
        # The day before, in Kiritimati's calendar, ended before these verdicts.
        kiribati_yesterday = datetime.now(ZoneInfo("Pacific/Kiritimati")).date() - timedelta(1)
        none = await client.get(
            f"/internal/v1/batches/{batch['id']}/download",
            params={"processed_on": kiribati_yesterday.isoformat(), "tz": "Pacific/Kiritimati"},
        )
        assert len(list(csv.reader(io.StringIO(none.text)))) == 1
        bad_tz = await client.get(
            f"/internal/v1/batches/{batch['id']}/download", params={"tz": "Mars/Olympus"}
        )
        assert bad_tz.status_code == 422 and bad_tz.json()["error"]["code"] == "bad_time_zone"

        # Retention is the scheduler's clock; ingest deletes when asked, if really expired.
        url = f"/internal/v1/batches/{batch['id']}"
        early = await client.delete(url, params={"expired_before": clock.now().isoformat()})
        assert early.status_code == 409 and early.json()["error"]["code"] == "not_expired"
        clock.advance(timedelta(days=43))
        cutoff = (clock.now() - timedelta(days=42)).isoformat()
        gone = await client.delete(url, params={"expired_before": cutoff})
        assert gone.status_code == 200 and gone.json()["status"] == "deleted"
        again = await client.delete(url, params={"expired_before": cutoff})
        assert again.status_code == 200  # idempotent
        assert (await client.get(f"{url}/download")).status_code == 410
        assert (await client.get(url)).json()["status"] == "deleted"
        # The reader's group has read the first four already: the next one is the deletion.
        [deleted] = await consume(settings, BATCH_EVENTS.name, 1)
        assert b'"deleted"' in deleted


async def test_a_file_that_is_not_csv_fails_its_batch_with_a_reason(
    service_env: dict[str, str],
) -> None:
    settings = IngestSettings(http_port=free_port(), internal_token=TOKEN)  # type: ignore[arg-type]
    clock = ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"}
    async with (
        running_ingest(settings, clock) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
    ):
        created = await client.post(
            "/internal/v1/batches",
            files={"file": ("leads.xlsx", b"PK\x03\x04" + bytes(200), "application/zip")},
            data={"name": "Excel", "reference": "r2", "phone_column": ""},
        )
        assert created.status_code == 201
        batch = await wait_batch(client, created.json()["id"], status="failed")
        assert "Excel" in batch["failure_reason"] or "ZIP" in batch["failure_reason"]
        download = await client.get(f"/internal/v1/batches/{batch['id']}/download")
        assert download.status_code == 409
        unauthorised = await client.get(
            "/internal/v1/batches", headers={"X-LC-Internal-Token": "x"}
        )
        assert unauthorised.status_code == 401
        assert unauthorised.json()["error"]["code"] == "unauthorized"


async def test_format_overrides_apply_to_the_preview_and_the_import(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    settings = IngestSettings(
        http_port=free_port(),
        internal_token=TOKEN,  # type: ignore[arg-type]
        upload_dir=tmp_path,
    )
    clock = ManualClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    headers = {"X-LC-Internal-Token": TOKEN, "X-LC-Account-Id": "acc_1"}
    # Detected: no header, `;`. Chosen: a header row, `,` (one column holding `a;b`).
    data = "0412345670;Zoé\n0412345671;Al\n0412345671;Bo\nnope;x\n".encode("cp1252")
    chosen = {"encoding": "cp1252", "delimiter": ",", "has_header": "true"}
    async with (
        running_ingest(settings, clock) as url,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client,
    ):
        files = {"file": ("leads.csv", data, "text/csv")}
        detected = (await client.post("/internal/v1/imports/preview", files=files)).json()
        assert (detected["delimiter"], detected["has_header"]) == (";", False)
        assert "dry_run" not in detected
        preview = await client.post(
            "/internal/v1/imports/preview",
            files=files,
            data={**chosen, "phone_column": "0"},
        )
        assert preview.status_code == 200, preview.text
        found = preview.json()
        assert (found["encoding"], found["delimiter"], found["has_header"]) == ("cp1252", ",", True)
        assert found["header"] == ["0412345670;Zoé"]
        assert found["dry_run"] == {
            "rows": 3,
            "accepted": 0,
            "rejected": 3,
            "duplicates": 0,
            "rejected_by_reason": [
                {
                    "reason": "contains_letters",
                    "count": 3,
                    "examples": ["0412345671;Al", "0412345671;Bo", "nope;x"],
                }
            ],
        }
        by_detection = await client.post(
            "/internal/v1/imports/preview", files=files, data={"phone_column": "Column 1"}
        )
        assert by_detection.json()["dry_run"]["duplicates"] == 1
        assert by_detection.json()["dry_run"]["accepted"] == 2

        created = await client.post(
            "/internal/v1/batches", files=files, data={**chosen, "phone_column": "0"}
        )
        assert created.status_code == 201, created.text
        # Nothing accepted: the batch is finished as soon as it is imported.
        batch = await wait_batch(client, created.json()["id"], status="finished")
        assert (batch["imported"], batch["accepted"], batch["rejected"]) == (3, 0, 3)
        await until(lambda: not any(tmp_path.iterdir()), what="the upload removed")
