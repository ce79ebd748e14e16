"""Settings of the prober service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from lc_common.settings import ServiceSettings


class ProberSettings(ServiceSettings):
    """Which trunks this prober dials and how it presents itself to them."""

    owner: ClassVar[str] = "prober"

    http_port: int = 8003
    trunks_file: Path = Field(Path("deploy/local/trunks.yaml"))
    trunk: str = ""
    """Dial only this trunk (one Deployment per trunk in production); empty: every trunk."""
    replicas: int = Field(1, ge=1)
    """How many prober replicas share each trunk; each takes 1/replicas of its limits."""
    sip_bind_host: str = "0.0.0.0"
    contact_host: str | None = None
    from_user: str = "leadcleanser"
    ring_seconds: float = 0.0
    early_media_seconds: float = 4.0
