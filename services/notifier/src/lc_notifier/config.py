"""Notifier's settings, from `LC_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from lc_common.retry_policy import Duration, Durations
from lc_common.settings import MailingServiceSettings
from lc_notifier.webhooks.domain import DEFAULT_SCHEDULE


class NotifierSettings(MailingServiceSettings):
    """Where the peers and the SMTP relay are, and when daily summaries go out."""

    owner: ClassVar[str] = "notifier"

    http_port: int = 8006
    gateway_url: str = "http://127.0.0.1:8000"
    ingest_url: str = "http://127.0.0.1:8001"
    # Where clients reach the control panel and API: the base of every link in a mail.
    public_url: str = "http://127.0.0.1:8000"
    peer_timeout_seconds: float = Field(10.0, gt=0)

    # A local day's summary goes out at this hour of the account's own time zone on the
    # next day (`LC_DAILY_HOUR`; 0: as soon as the day is over).
    daily_hour: int = Field(7, ge=0, le=23)
    daily_check_interval_seconds: float = Field(60.0, gt=0)
    # How long an account's time zone, read from the gateway, is trusted.
    zone_cache_seconds: float = Field(300.0, gt=0)
    # A claim that never became `sent` within this time is taken over and retried.
    claim_stale_minutes: float = Field(15.0, gt=0)
    max_send_attempts: int = Field(5, ge=1)

    # Client webhooks. Private targets (http, loopback, private networks) only for local
    # development and tests: in production a webhook goes to a public https address only.
    webhooks_allow_private_targets: bool = False
    webhooks_timeout_seconds: float = Field(10.0, gt=0)
    # After the first attempt: the Standard Webhooks (Svix) schedule, given up after a day.
    webhooks_retry_schedule: Durations = Field(default_factory=lambda: list(DEFAULT_SCHEDULE))
    webhooks_give_up_after: Duration = timedelta(hours=24)
    webhooks_send_interval_seconds: float = Field(1.0, gt=0)
    # A taken delivery is the sender's for this long (more than the timeout).
    webhooks_lease_seconds: float = Field(60.0, gt=0)
    webhooks_concurrency: int = Field(8, ge=1)
    webhooks_max_per_account: int = Field(20, ge=1)
