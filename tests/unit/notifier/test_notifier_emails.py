"""Rendering the final email and the daily summary."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lc_notifier.emails import Account, Renderer

ACCOUNT = Account(
    id="acc_1", name="Acme <Calls>", email="ops@acme.test", time_zone="Australia/Sydney"
)
BATCH = {
    "id": "bat_1",
    "account_id": "acc_1",
    "name": "March leads",
    "reference": "PO-77",
    "finished_at": "2025-03-03T07:04:00+00:00",
    "imported": 12,
    "accepted": 10,
    "rejected": 2,
    "connected": 6,
    "disconnected": 3,
    "indeterminate": 1,
    "processed": 10,
    "remaining": 0,
}


def test_final_email_has_counters_link_and_both_parts() -> None:
    email = Renderer("https://app.example").final(ACCOUNT, BATCH)
    assert email.key == "final:bat_1"
    assert email.to == "ops@acme.test"
    assert email.subject == "Batch finished: March leads"
    link = "https://app.example/batches/bat_1/download"
    for part in (email.text, email.html):
        assert link in part
        assert "/api/" not in part  # an API link answers a browser with a JSON 401
        assert "PO-77" in part
    assert "Connected      6" in email.text
    assert "Rejected       2" in email.text
    assert "2025-03-03 18:04 AEDT" in email.text  # finished_at in the account's zone
    # HTML is escaped, text is not.
    assert "Acme &lt;Calls&gt;" in email.html
    assert "Hello Acme <Calls>," in email.text


def test_daily_summary_lists_each_batch_with_a_link_for_that_day() -> None:
    batches = [
        {
            "batch_id": "bat_1",
            "name": "March",
            "reference": "",
            "processed": 5,
            "connected": 3,
            "disconnected": 1,
            "indeterminate": 1,
        },
        {
            "batch_id": "bat_2",
            "name": "April",
            "reference": "R2",
            "processed": 2,
            "connected": 2,
            "disconnected": 0,
            "indeterminate": 0,
        },
    ]
    email = Renderer("https://app.example").daily(
        ACCOUNT, date(2025, 3, 3), "Australia/Sydney", batches
    )
    assert email.key == "daily:acc_1:2025-03-03"
    assert email.subject == "Leads processed on 2025-03-03"
    assert "7 leads were processed on 2025-03-03 (Australia/Sydney time)." in email.text
    for batch_id in ("bat_1", "bat_2"):
        link = f"https://app.example/batches/{batch_id}/download?processed_on=2025-03-03"
        assert link in email.text
        assert f'href="{link}"' in email.html
    assert "/api/" not in email.text + email.html


def test_the_message_has_text_and_html_and_a_message_id_from_the_key() -> None:
    email = Renderer("https://app.example").final(ACCOUNT, BATCH)
    message = email.to_message("Lead Cleanser <noreply@lc.test>", datetime(2025, 3, 3, tzinfo=UTC))
    assert message["Message-ID"] == "<final.bat_1@lc.test>"
    assert message["To"] == "ops@acme.test"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_out_of_credit_email_is_keyed_by_the_event_and_links_to_billing() -> None:
    email = Renderer("https://app.example/").out_of_credit(ACCOUNT, "6e7f8a9b")
    assert email.key == "credit:6e7f8a9b"
    assert email.to == "ops@acme.test"
    assert "paused" in email.subject
    for part in (email.text, email.html):
        assert "https://app.example/billing" in part
        assert "paused" in part
    assert "Acme &lt;Calls&gt;" in email.html  # the name is escaped in HTML
