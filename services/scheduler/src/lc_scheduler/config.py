"""The scheduler's settings, from `LC_*` environment variables."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from lc_common.retry_policy import RetrySettings
from lc_common.settings import ServiceSettings
from lc_scheduler.domain.windows import (
    DEFAULT_DAYS,
    DEFAULT_IGNORED_ZONES,
    DEFAULT_SUBDIVISIONS,
    DEFAULT_ZONE_PREFIXES,
    CallingPolicy,
    CountryWindows,
)

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CountryWindowSettings(BaseModel):
    """One country's calling window: `{"mon": ["09:00", "20:00"], ...}`; a missing day: none."""

    days: dict[str, tuple[time, time]] = Field(
        default_factory=lambda: {_DAY_NAMES[d]: hours for d, hours in DEFAULT_DAYS.items()}
    )
    holidays: bool = True
    default_zone: str | None = None

    @field_validator("days")
    @classmethod
    def _known_days(cls, value: dict[str, tuple[time, time]]) -> dict[str, tuple[time, time]]:
        unknown = set(value) - set(_DAY_NAMES)
        if unknown:
            raise ValueError(f"unknown days {sorted(unknown)}; use {_DAY_NAMES}")
        return value

    def to_domain(self) -> CountryWindows:
        return CountryWindows(
            days={_DAY_NAMES.index(name): hours for name, hours in self.days.items()},
            holidays=self.holidays,
            default_zone=self.default_zone,
        )


class SchedulerSettings(ServiceSettings, RetrySettings):
    """Everything the scheduler reads from its environment.

    The retry schedule is the system's (`LC_RETRY_SCHEDULE`, ..., see
    `lc_common.retry_policy`), the same the classifier decides by.
    """

    owner: ClassVar[str] = "scheduler"

    model_config = SettingsConfigDict(env_prefix="LC_", extra="ignore", populate_by_name=True)

    http_port: int = 8002
    trunks_file: Path = Field(
        Path("deploy/local/trunks.yaml"),
        validation_alias=AliasChoices("LC_TRUNKS_FILE", "LC_SCHEDULER_TRUNKS_FILE"),
    )
    # How often a dispatch round runs when nothing wakes it earlier.
    dispatch_interval_seconds: float = 1.0
    # Outstanding probe requests per trunk: channels + ceil(cps x loop seconds) (Little's
    # law: what the trunk holds plus what it starts while a verdict comes back), at
    # least ceil(channels x factor).
    outstanding_factor: float = 1.0
    dispatch_loop_seconds: float = Field(3.0, ge=0)
    # A paused batch's requests dispatched before the pause are void (the prober drops
    # them): their leads are queued again, due this long after the pause, so a call a
    # prober had started before it learnt of the pause has answered first.
    pause_requeue_after_seconds: float | None = None
    # An outstanding probe with no verdict nor retry after this long is dispatched again.
    probe_timeout_seconds: float = 600.0
    # The longest a test call can last. A probe request expires (`expires_at`) this
    # long, and a skew margin, before the sweep may dispatch its lead again, so of
    # a timed-out request and its successor at most one ever rings.
    max_call_seconds: float = 60.0
    # How far the clocks of the scheduler and the probers may disagree.
    probe_expiry_skew_seconds: float = 30.0
    # Credit: billing reserves a unit before each dial (`LC_BILLING_URL`); an account
    # refused is not dispatched until billing announces `restored`, or until a
    # reservation tried again this often succeeds.
    billing_url: str = "http://127.0.0.1:8005"
    credit_recheck_seconds: float = 30.0
    # Closed batches whose reservations billing has not yet released are asked again this often.
    release_interval_seconds: float = 5.0
    # Timeout of each call to billing and ingest (one pooled HTTP client for both).
    http_timeout_seconds: float = 10.0
    sweep_interval_seconds: float = 15.0
    # Calling windows: defaults for every country, per-country overrides (JSON in the
    # environment, or a YAML file `{default: {...}, countries: {AU: {...}}}`).
    calling_window_default: CountryWindowSettings = Field(default_factory=CountryWindowSettings)
    calling_windows: dict[str, CountryWindowSettings] = Field(
        default_factory=lambda: {"AU": CountryWindowSettings(default_zone="Australia/Sydney")}
    )
    calling_windows_file: Path | None = None
    # None: enforced in production only. The local stack dials a carrier simulator
    # at any hour, so demos and end-to-end runs work on a Sunday night too.
    calling_windows_enforced: bool | None = None
    # E.164 prefix -> time zone, for ranges phonenumbers places in several zones.
    zone_prefixes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ZONE_PREFIXES))
    ignored_zones: list[str] = Field(default_factory=lambda: sorted(DEFAULT_IGNORED_ZONES))
    # Re-drive: ingest's list of open leads, asked at startup, on demand and every
    # `redrive_interval_seconds` (0: never on its own), which heals without an operator
    # what a broker restarted empty took between ingest and here.
    ingest_url: str = "http://127.0.0.1:8001"
    redrive_on_startup: bool = True
    redrive_interval_seconds: float = Field(900.0, ge=0)
    redrive_page_size: int = 1000
    # A lead ingest still calls open although it is final here is tested again only
    # once its final verdict is this old (ingest may simply not have read it yet).
    redrive_final_grace_seconds: float = 600.0
    # Retention: a batch is deleted this long after it finishes, fails or is paused
    # (ingest deletes it when asked); the batches are checked this often.
    retention_days: float = 42.0
    retention_check_interval_seconds: float = 3600.0
    # Leader election: the lease in MongoDB lasts `lease_ttl_seconds` and the leader
    # renews it every `lease_renew_seconds`; a standby asks that often too.
    lease_ttl_seconds: float = 15.0
    lease_renew_seconds: float = 5.0
    # Verdicts and retries are written in bulk: at most this many per write.
    insert_batch_max: int = 500
    # Accepted leads are read and stored in bulks of at most this many (one fetch).
    intake_bulk_max: int = 2000
    consumer_concurrency: int = 256

    @model_validator(mode="after")
    def _requests_expire_before_their_successor(self) -> SchedulerSettings:
        if self.probe_expiry_seconds <= 0:
            raise ValueError(
                "LC_PROBE_TIMEOUT_SECONDS must exceed LC_MAX_CALL_SECONDS plus "
                "LC_PROBE_EXPIRY_SKEW_SECONDS"
            )
        return self

    @property
    def pause_requeue_after(self) -> float:
        """Seconds after a pause its void requests' leads are due again."""
        if self.pause_requeue_after_seconds is not None:
            return self.pause_requeue_after_seconds
        return self.max_call_seconds + self.probe_expiry_skew_seconds

    @property
    def probe_expiry_seconds(self) -> float:
        """How long after its dispatch a probe request may still be dialled."""
        return self.probe_timeout_seconds - self.max_call_seconds - self.probe_expiry_skew_seconds

    def calling_policy(self) -> CallingPolicy:
        """The calling windows as the domain sees them."""
        default = self.calling_window_default
        countries = dict(self.calling_windows)
        if self.calling_windows_file is not None:
            data: dict[str, Any] = yaml.safe_load(self.calling_windows_file.read_text()) or {}
            if "default" in data:
                default = CountryWindowSettings.model_validate(data["default"])
            for code, spec in (data.get("countries") or {}).items():
                countries[str(code).upper()] = CountryWindowSettings.model_validate(spec)
        return CallingPolicy(
            countries={code.upper(): spec.to_domain() for code, spec in countries.items()},
            default=default.to_domain(),
            subdivisions=dict(DEFAULT_SUBDIVISIONS),
        )

    @property
    def windows_enforced(self) -> bool:
        """Whether calling windows hold back dispatch."""
        if self.calling_windows_enforced is not None:
            return self.calling_windows_enforced
        return self.environment == "production"

    def default_zones(self) -> dict[str, str]:
        """Per country, the zone assumed for a number phonenumbers cannot place."""
        return {
            code.upper(): spec.default_zone
            for code, spec in self.calling_windows.items()
            if spec.default_zone
        }
