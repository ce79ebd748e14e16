"""The control panel in headless Chromium: log in, the Batches table, pause, import, Billing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tests.integration.gateway.conftest import PASSWORD, Stack
from tests.integration.gateway.test_gateway_api import leads_csv
from tests.integration.gateway.test_gateway_panel import COLUMNS

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


@pytest.fixture
async def page(stack: Stack) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(base_url=stack.url)
            tab = await context.new_page()
            tab.set_default_timeout(15_000)
            yield tab
        finally:
            await browser.close()


async def test_a_client_logs_in_pauses_a_batch_imports_and_buys_credit(
    stack: Stack, page: Page, tmp_path: Path
) -> None:
    owner = await stack.new_account("Browser Calls")
    batch_id = stack.ingest.add_batch(owner.account.id, name="June leads")
    stack.billing.balances[owner.account.id] = 10

    await page.goto("/batches")
    await expect(page).to_have_url(f"{stack.url}/login?next=/batches")
    await page.get_by_label("Email").fill(owner.login)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{stack.url}/batches")

    await expect(page.locator("th[scope=col]")).to_have_text(COLUMNS)
    row = page.locator(f"tr[data-batch-id='{batch_id}']")
    await expect(row).to_contain_text("June leads")
    await expect(row.locator("td.paused")).to_contain_text("No")
    await row.get_by_role("button", name="Pause").click()
    await expect(row.locator("td.paused")).to_contain_text("Yes")
    await expect(row.get_by_role("button", name="Unpause")).to_be_visible()
    assert stack.ingest.batches[batch_id]["paused"] is True

    csv_file = tmp_path / "leads.csv"
    csv_file.write_bytes(leads_csv(12))
    await page.get_by_role("link", name="Import", exact=True).click()
    await page.get_by_label("CSV file").set_input_files(str(csv_file))
    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("#preview-result")).to_contain_text("Lead 0")
    # Previewed in place by the page's script: the chosen file is still there to import.
    await expect(page).to_have_url(f"{stack.url}/import")
    await expect(page.get_by_label("Phone column")).to_have_value("phone")
    await page.get_by_label("Name").fill("July leads")
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page).to_have_url(f"{stack.url}/batches")
    await expect(page.locator("table.batches")).to_contain_text("July leads")
    assert stack.ingest.uploads[-1].fields["phone_column"] == "phone"

    await page.get_by_role("link", name="Billing").click()
    await expect(page.locator("#balance")).to_have_text("10")
    await page.get_by_label("Units").fill("250")
    await page.get_by_role("button", name="Buy Credit").click()
    # The stand-in provider pays at once and sends the browser back to the return page.
    await expect(page).to_have_url(f"{stack.url}/billing/return")
    await expect(page.locator("#balance")).to_have_text("260")
