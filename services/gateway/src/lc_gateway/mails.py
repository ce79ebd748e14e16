"""Mails about users: invitations and password resets, sent in the background.

They go through the same SMTP relay as the lockout notice (`adapters/mail.py`).
Sending never delays an answer: a reset request answers alike whether or not
a mail leaves, so nobody learns from the timing which addresses are users.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import structlog

from lc_gateway.metrics import MAILS
from lc_gateway.ports import Mailer

log = structlog.get_logger(__name__)


def invitation_mail(
    *, to: str, account_name: str, invited_by: str, role: str, link: str, hours: float, sender: str
) -> EmailMessage:
    """The invitation: who invites, into which account, the link and how long it lasts."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Lead Cleanser: you are invited to {account_name}"
    message.set_content(
        f"Hello,\n\n{invited_by} invites you to use Lead Cleanser for {account_name} "
        f"(as {role}).\n\nChoose your name and password here:\n\n{link}\n\n"
        f"The link works once and expires in {hours:g} hours. If you did not expect "
        "this invitation, ignore this mail.\n"
    )
    return message


def reset_mail(*, to: str, link: str, minutes: float, sender: str) -> EmailMessage:
    """The reset link, how long it lasts, and what to do if it was not asked for."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Lead Cleanser: reset your password"
    message.set_content(
        "Hello,\n\nSomeone asked to reset the password of your Lead Cleanser login "
        f"{to}. Choose a new password here:\n\n{link}\n\n"
        f"The link works once and expires in {minutes:g} minutes. Using it logs out "
        "every session of this login. If you did not ask for it, ignore this mail: "
        "your password stays as it is.\n"
    )
    return message


class BackgroundMail:
    """Hands mails to SMTP in tasks of their own; failures are logged and counted."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer
        self._sending: set[asyncio.Task[None]] = set()

    def send(self, kind: str, message: EmailMessage, **ids: Any) -> None:
        """Start sending `message`; `ids` (account_id, user_id) are bound to its log lines."""
        task = asyncio.create_task(self._send(kind, message, ids))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, kind: str, message: EmailMessage, ids: dict[str, Any]) -> None:
        try:
            await self._mailer.send(message)
        except Exception as exc:
            MAILS.labels(kind, "failed").inc()
            log.warning("mail_failed", kind=kind, error=repr(exc), **ids)
            return
        MAILS.labels(kind, "sent").inc()
        log.info("mail_sent", kind=kind, **ids)

    async def drain(self) -> None:
        """Wait for mails being sent (at shutdown)."""
        await asyncio.gather(*self._sending, return_exceptions=True)
