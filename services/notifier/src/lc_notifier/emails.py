"""The emails (final, daily, out of credit), rendered from Jinja2 templates (text and
HTML parts) in `templates/`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from lc_notifier import domain


@dataclass(frozen=True)
class Account:
    """The addressee, as the gateway tells it."""

    id: str
    name: str
    email: str
    time_zone: str


@dataclass(frozen=True)
class Email:
    """A rendered email, ready to be sent."""

    key: str
    to: str
    subject: str
    text: str
    html: str

    def to_message(self, sender: str, sent_at: datetime) -> EmailMessage:
        """The MIME message: text with an HTML alternative, a Message-ID derived from the key."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(sent_at)
        sender_domain = parseaddr(sender)[1].rpartition("@")[2] or "leadcleanser.local"
        message["Message-ID"] = domain.message_id(self.key, sender_domain)
        message["X-LC-Notification"] = self.key
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


class Renderer:
    """Renders the final and daily emails."""

    def __init__(self, public_url: str) -> None:
        self._public_url = public_url
        self._env = Environment(
            loader=PackageLoader("lc_notifier", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def _render(self, name: str, context: dict[str, Any]) -> tuple[str, str]:
        text = self._env.get_template(f"{name}.txt").render(context)
        html = self._env.get_template(f"{name}.html").render(context)
        return text, html

    def final(self, account: Account, batch: dict[str, Any]) -> Email:
        """The email that tells a client one of their batches is finished."""
        note = domain.Notification.final(account.id, batch["id"])
        finished = _local(batch.get("finished_at"), account.time_zone)
        context = {
            "account": account,
            "batch": batch,
            "finished_at": finished,
            "download_url": domain.download_url(self._public_url, batch["id"]),
        }
        text, html = self._render("final", context)
        subject = f"Batch finished: {batch.get('name') or batch['id']}"
        return Email(note.key, account.email, subject, text, html)

    def daily(
        self, account: Account, day: date, time_zone: str, batches: list[dict[str, Any]]
    ) -> Email:
        """The summary of the leads processed on one local date of the account (in
        `time_zone`), per batch, each with the panel link to that day's leads."""
        note = domain.Notification.daily(account.id, day)
        rows = [
            {**b, "download_url": domain.download_url(self._public_url, b["batch_id"], day)}
            for b in batches
        ]
        context = {
            "account": account,
            "day": day.isoformat(),
            "time_zone": time_zone,
            "batches": rows,
            "total": sum(int(b.get("processed", 0)) for b in batches),
        }
        text, html = self._render("daily", context)
        subject = f"Leads processed on {day.isoformat()}"
        return Email(note.key, account.email, subject, text, html)

    def out_of_credit(self, account: Account, event_id: str) -> Email:
        """The one email of an exhaustion: batches are paused until credit is bought."""
        note = domain.Notification.out_of_credit(account.id, event_id)
        context = {"account": account, "billing_url": domain.billing_url(self._public_url)}
        text, html = self._render("out_of_credit", context)
        subject = "Out of credit: your batches are paused"
        return Email(note.key, account.email, subject, text, html)


def _local(value: str | None, time_zone: str) -> str:
    """An ISO timestamp shown in the account's zone, e.g. `2025-03-03 18:04 AEDT`."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(domain.zone(time_zone)).strftime("%Y-%m-%d %H:%M %Z")
