"""Telling an account's owner that its login was locked by repeated wrong passwords.

When a login is locked, and how often its owner is told, is `edge/throttle.py`'s
count under the windows of `domain/lockout.py`; this module writes and sends the mail.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import structlog

from lc_gateway.domain.accounts import Account
from lc_gateway.metrics import LOCKOUT_NOTICES
from lc_gateway.ports import Mailer

log = structlog.get_logger(__name__)


def lockout_notice(account: Account, login: str, mail_from: str, panel_url: str) -> EmailMessage:
    """The notice: which login, what happened, what to do if it was not them."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = account.email
    message["Subject"] = "Lead Cleanser: repeated failed logins"
    message.set_content(
        f"Hello {account.name},\n\n"
        f"Someone entered a wrong password for the login {login} several times in a row, "
        "so logging in with it is paused for a few minutes.\n\n"
        "If this was you, wait a little and try again. If it was not, nobody got in, "
        "but consider choosing a new password.\n\n"
        f"{panel_url}\n"
    )
    return message


class LockoutNotifier:
    """Sends lockout notices in the background, so a login answer never waits on SMTP."""

    def __init__(self, mailer: Mailer, mail_from: str, panel_url: str) -> None:
        self._mailer = mailer
        self._mail_from = mail_from
        self._panel_url = panel_url
        self._sending: set[asyncio.Task[None]] = set()

    def notify(self, account: Account, login: str) -> None:
        """Start sending the notice for `login` to the account's address."""
        task = asyncio.create_task(self._send(account, login))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, account: Account, login: str) -> None:
        try:
            await self._mailer.send(
                lockout_notice(account, login, self._mail_from, self._panel_url)
            )
        except Exception as exc:
            LOCKOUT_NOTICES.labels("failed").inc()
            log.warning("lockout_notice_failed", account_id=account.id, error=repr(exc))
            return
        LOCKOUT_NOTICES.labels("sent").inc()
        log.info("lockout_notice_sent", account_id=account.id)

    async def drain(self) -> None:
        """Wait for notices being sent (at shutdown)."""
        await asyncio.gather(*self._sending, return_exceptions=True)
