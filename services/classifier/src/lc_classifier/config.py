"""The classifier's settings, read from `LC_*` environment variables."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from lc_common.settings import ServiceSettings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1h`, `2d` → a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration (like 90s, 5m, 1h, 2d): {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_durations(text: str) -> list[timedelta]:
    """A comma-separated list of durations, e.g. `1h,3h,1d,2d,3d`."""
    return [parse_duration(part) for part in text.split(",") if part.strip()]


class ClassifierSettings(ServiceSettings):
    """Where the classifier keeps its state, which rules it applies and how it retries.

    Durations are written like `90s`, `5m`, `1h`, `2d`; lists are comma-separated.
    """

    owner: ClassVar[str] = "classifier"

    http_port: int = 8004
    classifier_app_id: str = "classifier"
    classifier_data_dir: Path = Path(".local/classifier")
    classifier_rules_file: Path | None = None
    # Due times of attempts 2, 3, ... counted from the first attempt.
    classifier_retry_schedule: str = "1h,3h,1d,2d,3d"
    classifier_max_attempts: int = Field(5, ge=1)
    classifier_retry_horizon: str = "72h"
    # Delay before re-dialling after the n-th trunk fault of one attempt (the last repeats).
    classifier_trunk_fault_backoff: str = "0s,0s,1m,5m,15m"
    # Delay of a confirmation call; empty: the retry schedule's next slot.
    classifier_confirm_delay: str = ""
    # Kafka group session: how long a dead worker holds its partitions; the local
    # broker also waits about this long before the first assignment.
    classifier_session_timeout: float = Field(10.0, ge=6.0)
    classifier_stream_buffer: int = Field(4096, ge=1)

    @field_validator("classifier_retry_schedule", "classifier_trunk_fault_backoff")
    @classmethod
    def _durations(cls, value: str) -> str:
        if not parse_durations(value):
            raise ValueError("needs at least one duration")
        return value

    @field_validator("classifier_retry_horizon")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("classifier_confirm_delay")
    @classmethod
    def _optional_duration(cls, value: str) -> str:
        if value.strip():
            parse_duration(value)
        return value
