"""Mail from the gateway (the lockout notice) through the same SMTP relay as the notifier's."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from lc_gateway.config import GatewaySettings


class SmtpMailer:
    """Hands messages to the configured relay (the local mailbox in development)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises `aiosmtplib.SMTPException` or `OSError` on failure."""
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
