"""The "out of credit" email: one per exhaustion, through the real broker, store and SMTP
mailbox; a replayed `exhausted` event sends nothing more, `restored` sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.notifier.support import consumed, gateway_app
from tests.support import poison_is_parked_and_the_next_event_handled, serving, until

from lc_common.events import BILLING_EVENTS, CreditEventV1
from lc_common.kafka import Publisher, ensure_topics
from lc_localstack.mailbox import running_mailbox
from lc_localstack.peers import free_port
from lc_notifier.bootstrap import build
from lc_notifier.config import NotifierSettings
from lc_notifier.handlers import handle_credit_event
from lc_notifier.main import create_app

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.smtp, pytest.mark.timeout(120)]

ACCOUNT = {
    "id": "acc_broke",
    "name": "Broke Calls",
    "email": "ops@broke.test",
    "time_zone": "Australia/Sydney",
}


async def test_an_exhausted_account_gets_one_out_of_credit_email(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({"acc_broke": ACCOUNT}), free_port()) as gateway_url,
    ):
        settings = NotifierSettings(
            http_port=free_port(),
            gateway_url=gateway_url,
            public_url="https://app.example",
            smtp_port=mailbox.port,
        )
        await ensure_topics(settings, [BILLING_EVENTS])
        publisher = Publisher(settings)
        await publisher.start()
        exhausted = CreditEventV1(account_id="acc_broke", kind="exhausted", balance=0)
        restored = CreditEventV1(account_id="acc_broke", kind="restored", balance=5)
        sends = [exhausted, exhausted, restored]
        before = consumed(BILLING_EVENTS.name, "notifier.billing-events")
        try:
            async with serving(create_app(settings), settings.http_port):
                for event in sends:
                    await publisher.publish(BILLING_EVENTS, event, key=event.account_id)
                await until(
                    lambda: (
                        consumed(BILLING_EVENTS.name, "notifier.billing-events") - before
                        >= len(sends)
                    ),
                    within=60,
                )
        finally:
            await publisher.stop()
        # A restarted notifier seeing the event again sends nothing either.
        runtime = await build(settings)
        try:
            await handle_credit_event(exhausted, runtime.deps)
        finally:
            await runtime.close()

        [mail] = mailbox.messages()
        assert mail["To"] == "ops@broke.test"
        assert mail["Subject"] == "Out of credit: your batches are paused"
        assert mail["X-LC-Notification"] == f"credit:{exhausted.event_id}"
        text = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        assert text is not None and html is not None
        assert "paused" in text.get_content()
        assert "https://app.example/billing" in text.get_content()
        assert 'href="https://app.example/billing"' in html.get_content()


async def test_exhausted_for_an_unknown_account_is_parked_and_the_next_is_mailed(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app({"acc_broke": ACCOUNT}), free_port()) as gateway_url,
    ):
        settings = NotifierSettings(
            http_port=free_port(), gateway_url=gateway_url, smtp_port=mailbox.port
        )
        await ensure_topics(settings, [BILLING_EVENTS])
        publisher = Publisher(settings)
        await publisher.start()
        app = create_app(settings)
        try:
            async with serving(app, settings.http_port):
                # No address to write to: the email can never be sent.
                await poison_is_parked_and_the_next_event_handled(
                    settings,
                    publisher,
                    BILLING_EVENTS,
                    impossible=CreditEventV1(
                        account_id="acc_nowhere", kind="exhausted", balance=0
                    ).model_dump(mode="json"),
                    good=CreditEventV1(account_id="acc_broke", kind="exhausted", balance=0),
                    handled=lambda: len(mailbox.messages()) == 1,
                )
                assert app.state.workers.alive
        finally:
            await publisher.stop()
