"""The control panel in Debian's headless Chromium, at 1366x768 and at a phone's width:
the Batches table fits, the Paused checkbox, an email's link, the import wizard, Billing.
Screenshots go to /tmp/lc-panel-screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tests.integration.gateway.conftest import PASSWORD, Stack
from tests.integration.gateway.standins import expected_download
from tests.integration.gateway.test_gateway_panel import COLUMNS
from tests.integration.gateway.test_gateway_panel_flows import SEMICOLON_FILE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.mongo,
    pytest.mark.skipif(
        not os.path.exists("/usr/bin/chromium"),
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/lc-panel-screenshots")


async def _open(stack: Stack, viewport: dict[str, int]) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(base_url=stack.url, viewport=viewport)
            tab = await context.new_page()
            tab.set_default_timeout(15_000)
            yield tab
        finally:
            await browser.close()


@pytest.fixture
async def page(stack: Stack) -> AsyncIterator[Page]:
    """A tab the size of a 1366x768 laptop screen."""
    async for tab in _open(stack, LAPTOP):
        yield tab


@pytest.fixture
async def phone(stack: Stack) -> AsyncIterator[Page]:
    """A tab the width of a phone."""
    async for tab in _open(stack, PHONE):
        yield tab


async def log_in(page: Page, stack: Stack, login: str, start: str = "/batches") -> None:
    await page.goto(start)
    await page.get_by_label("Email").fill(login)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def busy_batch(stack: Stack, account_id: str, name: str) -> str:
    """A batch with big counters and long texts, the hardest row to fit."""
    batch_id = stack.ingest.add_batch(account_id, name=name)
    batch = stack.ingest.batches[batch_id]
    batch.update(
        reference="REF-2026-LONG-REFERENCE-0001",
        imported=1_234_567,
        accepted=1_200_000,
        connected=654_321,
        disconnected=345_678,
        indeterminate=99_999,
        retry=12_345,
        processed=1_099_998,
        remaining=100_002,
        finished_at="2026-03-02T05:06:07+00:00",
    )
    return batch_id


async def test_the_batches_table_fits_a_laptop_and_its_checkbox_pauses(
    stack: Stack, page: Page
) -> None:
    owner = await stack.new_account("Browser Calls With A Long Client Name Pty Ltd")
    for index in range(30):
        busy_batch(stack, owner.account.id, f"Leads bought from a seller, lot {index:02d}")
    batch_id = busy_batch(stack, owner.account.id, "June leads")

    await page.goto("/batches")
    await expect(page).to_have_url(f"{stack.url}/login?next=/batches")
    await log_in(page, stack, owner.login, page.url)
    await expect(page).to_have_url(f"{stack.url}/batches")

    await expect(page.locator("th[scope=col]")).to_have_text(COLUMNS)
    await no_horizontal_scroll(page)
    for column in ("Paused", "Download"):
        box = await page.locator(f"th[scope=col]:text-is('{column}')").bounding_box()
        assert box is not None and box["x"] + box["width"] <= LAPTOP["width"], (column, box)
    await shot(page, "batches-1366")

    row = page.locator(f"tr[data-batch-id='{batch_id}']")
    await expect(row).to_contain_text("June leads")
    await expect(row.locator("td.num").first).to_have_text("1.2M")
    download = row.get_by_role("link", name="CSV")
    box = await download.bounding_box()
    assert box is not None and box["x"] + box["width"] <= LAPTOP["width"]
    checkbox = row.get_by_role("checkbox", name="Paused")
    await expect(checkbox).not_to_be_checked()
    # The stand-in takes the pause only when told to: "pausing…" shows until then.
    stack.ingest.batches[batch_id]["hold_status"] = True
    await checkbox.check()
    await expect(row.locator(".pending")).to_have_text("pausing…")
    await expect(row.locator("td.status")).to_have_text("Paused")
    await expect(row.locator(".pending")).to_be_hidden()
    await expect(checkbox).to_be_checked()
    assert stack.ingest.batches[batch_id]["paused"] is True
    await checkbox.uncheck()
    await expect(row.locator("td.status")).to_have_text("Running")
    assert stack.ingest.batches[batch_id]["paused"] is False

    await page.get_by_label("Search batches").fill("lot 07")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await page.goto("/batches")
    await expect(page.locator("nav.pager")).to_contain_text("Page 1 of 2")
    await page.get_by_role("link", name="Older →").click()
    await expect(page.locator("tbody tr")).to_have_count(6)


async def test_an_email_link_logged_out_logs_in_and_downloads(stack: Stack, page: Page) -> None:
    owner = await stack.new_account("Mail Link Co")
    batch_id = stack.ingest.add_batch(owner.account.id, name="Mailed")
    link = f"/batches/{batch_id}/download?processed_on=2026-03-02"

    await page.goto(link)
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("Email").fill(owner.login)
    await page.get_by_label("Password").fill(PASSWORD)
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Log in").click()
    download = await started.value
    assert download.suggested_filename == f"{batch_id}.csv"
    assert Path(await download.path()).read_bytes() == expected_download(batch_id)
    assert stack.ingest.download_params[-1]["tz"] == owner.account.time_zone


async def test_the_import_wizard_step_by_step(stack: Stack, page: Page, tmp_path: Path) -> None:
    owner = await stack.new_account("Wizard Browser Co")
    stack.billing.balances[owner.account.id] = 1
    csv_file = tmp_path / "leads.csv"
    csv_file.write_bytes(SEMICOLON_FILE)
    await log_in(page, stack, owner.login, "/import")
    await expect(page).to_have_url(f"{stack.url}/import")

    await page.get_by_label("CSV file").set_input_files(str(csv_file))
    await page.get_by_role("button", name="Next: check the format").click()
    await expect(page.locator("#step-format")).to_contain_text("(detected)")
    await page.get_by_label("Delimiter").select_option(";")
    await page.get_by_role("button", name="Next: choose the phone column").click()
    await expect(page.locator("#step-column")).to_contain_text("0412 345 670")
    await page.get_by_role("radio", name=re.compile("^phone")).check()
    await page.get_by_role("button", name="Next: check every row").click()
    await expect(page.locator("#dry-accepted")).to_have_text("2")
    await expect(page.locator("#short-warning")).to_contain_text("1 CU short")
    await no_horizontal_scroll(page)
    await shot(page, "import-summary-1366")
    await page.get_by_role("textbox", name="Name").fill("Wizard leads")
    await page.get_by_role("button", name="Import 2 leads").click()
    await expect(page).to_have_url(f"{stack.url}/batches")
    await expect(page.locator("table.batches")).to_contain_text("Wizard leads")
    sent = stack.ingest.uploads[-1]
    assert (sent.fields["phone_column"], sent.fields["delimiter"]) == ("phone", ";")


async def test_billing_pages_and_buy_credit_with_its_price(stack: Stack, page: Page) -> None:
    owner = await stack.new_account("Billing Browser Co")
    stack.billing.balances[owner.account.id] = 10
    stack.billing.transactions[owner.account.id] = [
        {
            "id": f"txn_{i:04d}",
            "kind": "purchase",
            "units": i,
            "batch_id": None,
            "description": f"Purchase {i}",
            "created_at": "2025-03-04T01:02:03+00:00",
            "status": "paid",
        }
        for i in range(120, 0, -1)
    ]
    await log_in(page, stack, owner.login, "/billing")
    await expect(page.locator("#balance")).to_have_text("10")
    await expect(page.locator("table.transactions tbody tr")).to_have_count(50)
    await page.get_by_label("Units").fill("250")
    await expect(page.locator("#total")).to_have_text("AUD 12.50")
    await no_horizontal_scroll(page)
    await shot(page, "billing-1366")
    await page.get_by_role("link", name="Older →").click()
    await expect(page.locator("table.transactions")).to_contain_text("Purchase 70")
    await page.get_by_role("link", name="Older →").click()
    await expect(page.locator("table.transactions tbody tr")).to_have_count(20)
    await expect(page.get_by_role("link", name="Older →")).to_have_count(0)

    await page.get_by_label("Units").fill("250")
    await page.get_by_role("button", name="Buy Credit").click()
    # A confirmation shows the price per unit and the total before any checkout.
    await expect(page.locator("main")).to_contain_text("AUD 12.50")
    await page.get_by_role("button", name="Continue to payment").click()
    # The stand-in provider pays at once and sends the browser back to the return page.
    await expect(page).to_have_url(f"{stack.url}/billing/return")
    await expect(page.locator("#balance")).to_have_text("260")


async def test_every_page_fits_a_phone(stack: Stack, phone: Page) -> None:
    owner = await stack.new_account("Phone Co")
    batch_id = busy_batch(stack, owner.account.id, "Phone leads")
    await log_in(phone, stack, owner.login)
    await expect(phone).to_have_url(f"{stack.url}/batches")
    for path, name in [
        ("/batches", "batches"),
        (f"/batches/{batch_id}", "batch"),
        ("/import", "import"),
        ("/billing", "billing"),
        ("/keys", "keys"),
    ]:
        await phone.goto(path)
        await no_horizontal_scroll(phone)
        await shot(phone, f"{name}-390")
    await phone.goto("/batches")
    row = phone.locator(f"tr[data-batch-id='{batch_id}']")
    await expect(row.get_by_role("checkbox", name="Paused")).to_be_visible()
    await expect(row.get_by_role("link", name="CSV")).to_be_in_viewport()
