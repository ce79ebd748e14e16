"""The gateway's settings, read from `LC_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from lc_common.settings import DEV_SECRET, ServiceSettings


class GatewaySettings(ServiceSettings):
    """Where the gateway listens, which peers it calls, and how it signs sessions.

    `session_secret` signs the control panel's session cookie; like every
    secret it is refused at its default value in production.
    """

    owner: ClassVar[str] = "gateway"

    http_port: int = 8000
    ingest_url: str = "http://127.0.0.1:8001"
    billing_url: str = "http://127.0.0.1:8005"
    session_secret: SecretStr = SecretStr(DEV_SECRET)
    # Where clients reach the gateway; used to build absolute links (payment return page).
    public_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 64 * 1024 * 1024
    # Seconds the panel's session cookie stays valid.
    session_max_age: int = 12 * 60 * 60
    upstream_timeout_seconds: float = 30.0

    @property
    def secure_cookies(self) -> bool:
        """Mark cookies `Secure` when clients reach us over HTTPS."""
        return self.public_url.startswith("https://")
