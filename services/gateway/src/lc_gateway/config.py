"""The gateway's settings, read from `LC_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from lc_common.settings import DEV_SECRET, MailingServiceSettings


class GatewaySettings(MailingServiceSettings):
    """Where the gateway listens, which peers it calls, and how it guards its edge.

    In production every secret must be set and strong (ServiceSettings refuses a
    weak one: lc_common.settings.weak_secret_problem).
    """

    owner: ClassVar[str] = "gateway"
    uses_kafka: ClassVar[bool] = False

    http_port: int = 8000
    ingest_url: str = "http://127.0.0.1:8001"
    billing_url: str = "http://127.0.0.1:8005"
    # The notifier keeps the clients' webhooks (registration, deliveries).
    notifier_url: str = "http://127.0.0.1:8006"
    # Kept for deployments that still set it; sessions live in the store now.
    session_secret: SecretStr = SecretStr(DEV_SECRET)
    # Where clients reach the gateway; used to build absolute links (payment return page).
    public_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 128 * 1024 * 1024
    # Every body that is not an upload (JSON, forms) is refused above this size.
    max_body_bytes: int = 64 * 1024
    upstream_timeout_seconds: float = 30.0

    # Sessions: a record in the store, dropped after this long unused or this long in all.
    session_idle_seconds: int = Field(30 * 60, gt=0)
    session_max_age: int = Field(12 * 60 * 60, gt=0)
    # Cookies are `Secure` unless this is set, for plain-HTTP local development only.
    insecure_cookies: bool = False

    # Throttling (limits' notation): failed API keys per client address, failed
    # passwords per login and per address.
    api_key_failure_limit: str = "10/minute"
    login_failure_limit: str = "10/minute"
    # Forgotten-password requests (each one counts) per login and per address.
    password_reset_limit: str = "5/hour"
    # At most this many password hashes are computed at once (64 MiB of Argon2 each).
    password_hash_slots: int = Field(2, ge=1)

    # Links mailed to users: an invitation and a password reset work once, until then.
    invitation_hours: float = Field(72.0, gt=0)
    password_reset_minutes: float = Field(60.0, gt=0)

    # Idempotency-Key records are kept this long.
    idempotency_hours: float = Field(24.0, gt=0)

    @property
    def secure_cookies(self) -> bool:
        """Mark cookies `Secure` unless plain-HTTP development asked otherwise."""
        return not self.insecure_cookies
