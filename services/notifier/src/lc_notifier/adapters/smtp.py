"""Sending mail through an SMTP relay with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from pydantic import SecretStr


class SmtpMailer:
    """Hands messages to the configured relay (the local mailbox in development)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Deliver one message; raises `aiosmtplib.SMTPException` or `OSError` on failure."""
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password.get_secret_value() if self._password else None,
            start_tls=self._starttls,
            timeout=self._timeout,
        )
