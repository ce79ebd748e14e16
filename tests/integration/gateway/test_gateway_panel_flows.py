"""The panel's flows over HTTP: email links (C3), search and pages, the batch page, the
import wizard with its dry run (C1), the API's dry run and cost, Billing pages and export (C4)."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import httpx
import pytest
from tests.integration.gateway.conftest import Stack, csrf_token_of, log_in
from tests.integration.gateway.standins import expected_download
from tests.integration.gateway.test_gateway_api import bearer, multipart

pytestmark = pytest.mark.mongo

SEMICOLON_FILE = (
    b"name;phone;notes\n"
    b"Ann;0412 345 670;a\n"
    b"Bob;0412 345 671;b\n"
    b"Cat;not a number;c\n"
    b"Dan;0412 345 670;d\n"
    b"Eve;12;e\n"
)


async def test_an_email_link_goes_through_the_login_and_downloads(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Link Co")
    batch_id = stack.ingest.add_batch(owner.account.id)
    link = f"/batches/{batch_id}/download?processed_on=2026-03-02"

    logged_out = await client.get(link)
    assert logged_out.status_code == 303
    assert logged_out.headers["location"] == f"/login?next={quote(link, safe='/')}"
    login_page = await client.get(logged_out.headers["location"])
    assert f'name="next" value="{link}"' in login_page.text.replace("&amp;", "&")
    logged_in = await client.post(
        "/login",
        data={
            "email": owner.login,
            "password": "correct horse battery staple",
            "csrf_token": csrf_token_of(login_page.text),
            "next": link,
        },
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == link
    download = await client.get(link)
    assert download.status_code == 200
    assert download.content == expected_download(batch_id)
    # The day is the account's own local day (contract C2).
    assert stack.ingest.download_params[-1] == {
        "processed_on": "2026-03-02",
        "tz": owner.account.time_zone,
    }


@pytest.mark.parametrize(
    "next_value",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", ""],
)
async def test_login_refuses_an_off_site_next(
    stack: Stack, client: httpx.AsyncClient, next_value: str
) -> None:
    owner = await stack.new_account("Next Co")
    page = await client.get("/login")
    answer = await client.post(
        "/login",
        data={
            "email": owner.login,
            "password": "correct horse battery staple",
            "csrf_token": csrf_token_of(page.text),
            "next": next_value,
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/batches"


async def test_hundreds_of_batches_are_searched_and_paged(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Many Co")
    ids = [stack.ingest.add_batch(owner.account.id, name=f"Batch {i:03d}") for i in range(260)]
    await log_in(client, owner.login)

    first = (await client.get("/batches")).text
    assert first.count("<tr data-batch-id=") == 25
    assert "Page 1 of 11 (260 batches)" in first
    last = (await client.get("/batches?page=11")).text
    assert last.count("<tr data-batch-id=") == 10
    assert ids[0] in last  # newest first: the first added is on the last page
    by_name = (await client.get("/batches", params={"q": "batch 123"})).text
    assert re.findall(r'<tr data-batch-id="([^"]+)"', by_name) == [ids[123]]
    by_id = (await client.get("/batches", params={"q": ids[7][4:14].upper()})).text
    assert re.findall(r'<tr data-batch-id="([^"]+)"', by_id) == [ids[7]]
    assert "No batch matches" in (await client.get("/batches?q=nothing-like-it")).text


async def test_the_batch_page_shows_counters_a_day_picker_and_reject_reasons(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Detail Co")
    batch_id = stack.ingest.add_batch(owner.account.id, name="Detail leads")
    stack.ingest.batches[batch_id]["rejected"] = 3
    # The download in the client's own dialect (semicolons) with a BOM, as ingest writes it.
    stack.ingest.download_bodies[batch_id] = (
        "\ufeffname;phone;cleanse_status;cleanse_reject_reason\r\n"
        "A;0412345670;connected;\r\n"
        "B;12;rejected;too short\r\n"
        'C;"call; me";rejected;letters\r\n'
        "D;34;rejected;too short\r\n"
    ).encode()
    await log_in(client, owner.login)

    page = await client.get(f"/batches/{batch_id}")
    assert page.status_code == 200
    assert 'id="counter-imported">10<' in page.text
    assert 'name="processed_on"' in page.text and 'type="date"' in page.text
    reasons = re.findall(
        r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="mono">([^<]*)</td>', page.text
    )
    assert reasons == [("too short", "2", "12, 34"), ("letters", "1", "call; me")]

    other = await stack.new_account("Other Detail Co")
    foreign = stack.ingest.add_batch(other.account.id)
    assert (await client.get(f"/batches/{foreign}")).status_code == 404


async def test_the_import_wizard_takes_overrides_a_column_and_shows_the_dry_run(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Wizard Co")
    stack.billing.balances[owner.account.id] = 1
    token = await log_in(client, owner.login)
    headers = {"X-CSRF-Token": token, "X-Requested-With": "fetch"}

    async def step(fields: dict[str, str]) -> str:
        body, content_type = multipart(fields, SEMICOLON_FILE)
        answer = await client.post(
            "/import/preview", content=body, headers={**headers, "Content-Type": content_type}
        )
        assert answer.status_code == 200, answer.text
        return answer.text

    fmt = await step({})
    assert 'id="step-format"' in fmt and 'id="step-column"' not in fmt
    overrides = {"encoding": "utf-8", "delimiter": ";", "has_header": "true"}
    column = await step(overrides)
    assert 'id="step-column"' in column
    assert re.search(r'value="phone" checked', column)
    assert "0412 345 670 · 0412 345 671 · not a number" in column
    assert stack.ingest.uploads[-1].fields["delimiter"] == ";"

    summary = await step({**overrides, "phone_column": "phone", "default_region": "AU"})
    assert 'id="dry-rows">5<' in summary
    assert 'id="dry-accepted">2<' in summary
    assert 'id="dry-duplicates">1<' in summary
    assert "not a number" in summary and "duplicate" in summary
    assert 'id="short-warning"' in summary and "1 CU short" in summary
    assert "Import 2 leads" in summary

    bad = multipart({"delimiter": "x"}, SEMICOLON_FILE)
    refused = await client.post(
        "/import/preview", content=bad[0], headers={**headers, "Content-Type": bad[1]}
    )
    assert refused.status_code == 422


async def test_the_api_dry_run_adds_the_cost(stack: Stack, client: httpx.AsyncClient) -> None:
    owner = await stack.new_account("Dry Co")
    stack.billing.balances[owner.account.id] = 10
    fields = {"delimiter": ";", "phone_column": "phone", "default_region": "AU"}
    body, content_type = multipart(fields, SEMICOLON_FILE)
    answer = await client.post(
        "/api/v1/imports/preview",
        content=body,
        headers={**bearer(owner.api_key), "Content-Type": content_type},
    )
    assert answer.status_code == 200, answer.text
    dry_run = answer.json()["dry_run"]
    assert (dry_run["rows"], dry_run["accepted"], dry_run["rejected"]) == (5, 2, 3)
    assert dry_run["cost"] == {"units": 2, "balance": 10, "short_by": 0}
    assert stack.ingest.uploads[-1].fields["phone_column"] == "phone"

    plain, plain_type = multipart({}, SEMICOLON_FILE)
    without = await client.post(
        "/api/v1/imports/preview",
        content=plain,
        headers={**bearer(owner.api_key), "Content-Type": plain_type},
    )
    assert "dry_run" not in without.json()


async def test_billing_shows_every_transaction_a_page_at_a_time_and_exports_all(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    owner = await stack.new_account("Ledger Co")
    rows = [
        {
            "id": f"txn_{i:04d}",
            "kind": "deduction" if i % 2 else "purchase",
            "units": i + 1,
            "batch_id": None,
            "description": "=HYPERLINK(1)" if i == 0 else f"Row {i}",
            "created_at": f"2025-03-04T01:{i // 60:02d}:{i % 60:02d}+00:00",
            "status": "completed",
        }
        for i in range(1234)
    ][::-1]
    stack.billing.transactions[owner.account.id] = rows
    await log_in(client, owner.login)

    first = (await client.get("/billing")).text
    shown = re.findall(r'data-transaction-id="([^"]+)"', first)
    assert shown == [r["id"] for r in rows[:50]]
    assert "AUD 0.05" in first and "AUD 50.00" in first
    older = re.search(r'<a rel="next" href="/billing\?cursor=([^"]+)"', first)
    assert older
    second = (await client.get(f"/billing?cursor={older.group(1)}")).text
    assert re.findall(r'data-transaction-id="([^"]+)"', second) == [r["id"] for r in rows[50:100]]

    export = await client.get("/billing/transactions.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(export.text)))
    assert lines[0] == ["created_at", "kind", "description", "batch_id", "status", "units", "id"]
    assert [line[6] for line in lines[1:]] == [r["id"] for r in rows]
    assert lines[-1][2] == "'=HYPERLINK(1)"
    assert lines[1][5] == "-1234"  # a deduction is shown as a minus
    assert stack.billing.transaction_limits[-3:] == [500, 500, 500]
