"""Settings of the prober service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from lc_common.settings import ServiceSettings


class ProberSettings(ServiceSettings):
    """Which trunks this prober dials and how it presents itself to them."""

    owner: ClassVar[str] = "prober"
    uses_internal_token: ClassVar[bool] = False

    http_port: int = 8003
    trunks_file: Path = Field(Path("deploy/local/trunks.yaml"))
    trunk: str = ""
    """Dial only this trunk (one Deployment per trunk in production); empty: every trunk."""
    sip_bind_host: str = "0.0.0.0"
    contact_host: str | None = None
    from_user: str = "leadcleanser"
    ring_seconds: float = 0.0
    early_media_seconds: float = 4.0
    health_threshold: int = Field(5, ge=1)
    """Trunk faults in a row (auth refused, no response, transport error, 503) before
    the trunk backs off."""
    health_backoff_seconds: float = Field(2.0, gt=0)
    """First back-off; doubles on each failed trial up to `health_backoff_max_seconds`."""
    health_backoff_max_seconds: float = Field(120.0, gt=0)
