"""How answers are shown: durations, times, labels, error JSON, exit codes."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from typer.testing import CliRunner

from leadcleanser.cli import ExitCode, app, exit_code
from leadcleanser.client import ApiError, AuthError, ConnectionFailed, NotFound, ServerError
from leadcleanser.output import (
    error_json,
    format_duration,
    format_time,
    format_units,
    status_label,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (44.6, "45s"), (185, "3m 05s"), (7620, "2h 07m"), (100_800, "1d 4h"), (-3, "0s")],
)
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_times_are_shown_in_the_given_zone() -> None:
    sydney = timezone(timedelta(hours=11))
    assert format_time("2026-11-30T22:15:09.123456+00:00", sydney) == "2026-12-01 09:15"
    assert format_time("2026-11-30T22:15:09Z", UTC) == "2026-11-30 22:15"
    assert format_time(None) == ""
    assert format_time("soon") == "soon"


def test_labels_and_units() -> None:
    assert status_label("paused_no_credit") == "paused (no credit)"
    assert status_label("running") == "running"
    assert format_units({"account_id": "acc_1", "balance": 12500, "unit": "CU"}) == "12,500 CU"


def test_errors_keep_the_api_shape() -> None:
    assert error_json(NotFound(404, "batch_not_found", "No batch bat_1.")) == {
        "error": {"code": "batch_not_found", "message": "No batch bat_1.", "status": 404}
    }
    assert error_json(ConnectionFailed("connection_failed", "down")) == {
        "error": {"code": "connection_failed", "message": "down"}
    }


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthError(401, "not_authenticated", ""), ExitCode.AUTH),
        (AuthError(403, "forbidden", ""), ExitCode.AUTH),
        (NotFound(404, "batch_not_found", ""), ExitCode.NOT_FOUND),
        (ServerError(503, "service_unavailable", ""), ExitCode.UNAVAILABLE),
        (ServerError(429, "too_many_attempts", ""), ExitCode.UNAVAILABLE),
        (ConnectionFailed("connection_failed", ""), ExitCode.UNAVAILABLE),
        (ApiError(422, "validation_error", ""), ExitCode.USAGE),
        (ApiError(410, "batch_deleted", ""), ExitCode.USAGE),
    ],
)
def test_each_error_has_its_exit_code(error: ApiError, code: ExitCode) -> None:
    assert exit_code(error) == code


def test_a_missing_url_or_key_is_a_usage_error() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["balance"], env={"LC_URL": "", "LC_API_KEY": ""})
    assert result.exit_code == 2
    result = runner.invoke(app, ["balance", "--url", "http://127.0.0.1:9"], env={"LC_API_KEY": ""})
    assert result.exit_code == 2


def test_the_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output
