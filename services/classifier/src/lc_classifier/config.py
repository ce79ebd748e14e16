"""The classifier's settings, read from `LC_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lc_common.retry_policy import Duration, Durations, RetrySettings, parse_durations
from lc_common.settings import ServiceSettings


class ClassifierSettings(ServiceSettings, RetrySettings):
    """Where the classifier keeps its state, which rules it applies and how it retries.

    The retry schedule is the system's (`LC_RETRY_SCHEDULE`, `LC_RETRY_MAX_ATTEMPTS`,
    `LC_RETRY_HORIZON`, see `lc_common.retry_policy`). Durations are written like
    `90s`, `5m`, `1h`, `2d`; lists are comma-separated.
    """

    owner: ClassVar[str] = "classifier"
    uses_internal_token: ClassVar[bool] = False

    http_port: int = 8004
    classifier_app_id: str = "classifier"
    classifier_data_dir: Path = Path(".local/classifier")
    classifier_rules_file: Path | None = None
    # The operator's library of known announcements (lc_classifier.announcements);
    # none: a voice in early media is never recognised, so never disconnected.
    classifier_announcements_dir: Path | None = None
    # Delay before re-dialling after the n-th trunk fault of one attempt (the last repeats).
    classifier_trunk_fault_backoff: Durations = Field(
        default_factory=lambda: parse_durations("0s,0s,1m,5m,15m"), min_length=1
    )
    # Delay of a confirmation call; none: the retry schedule's next slot.
    classifier_confirm_delay: Duration | None = None
    # Attempt histories untouched this long are pruned (the batch retention, 6 weeks).
    classifier_history_retention: Duration = timedelta(days=42)
    # How often the history table is swept for such entries.
    classifier_history_sweep_interval: Duration = timedelta(hours=1)
    # Kafka group session: how long a dead worker holds its partitions; the local
    # broker also waits about this long before the first assignment.
    classifier_session_timeout: float = Field(10.0, ge=6.0)
    classifier_stream_buffer: int = Field(4096, ge=1)
    # A table recovery without progress for this long ends the worker, which its
    # supervisor restarts (`recovery_watch`): a changelog lost with the broker.
    classifier_recovery_stall_seconds: float = Field(120.0, ge=5.0)
    # Signalling is decided a batch at a time: at most this many events, waiting at
    # most `within` seconds for a batch to fill (the latency it adds when idle).
    classifier_batch_size: int = Field(500, ge=1)
    classifier_batch_within: float = Field(0.02, gt=0.0, le=5.0)

    @field_validator("classifier_confirm_delay", "classifier_announcements_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
