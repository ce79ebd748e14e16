"""Reason header (RFC 3326, RFC 6432): ``Q.850;cause=16;text="..."``, possibly several values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReasonValue:
    """One reason-value: a protocol (``Q.850``, ``SIP``, ...) with its cause and text."""

    protocol: str
    cause: int | None = None
    text: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)


def _split_outside_quotes(value: str, sep: str) -> Iterator[str]:
    """Split on ``sep`` except inside quoted strings (which may hold commas and semicolons)."""
    start = 0
    quoted = False
    escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            yield value[start:i]
            start = i + 1
    yield value[start:]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_reason(values: str | Iterable[str]) -> list[ReasonValue]:
    """Parse Reason header value(s); malformed parts are skipped, never raised."""
    raw = [values] if isinstance(values, str) else list(values)
    parsed: list[ReasonValue] = []
    for header in raw:
        for item in _split_outside_quotes(header, ","):
            parts = list(_split_outside_quotes(item, ";"))
            protocol = parts[0].strip()
            if not protocol:
                continue
            params: dict[str, str | None] = {}
            for part in parts[1:]:
                name, sep, val = part.partition("=")
                name = name.strip().lower()
                if name:
                    params[name] = _unquote(val) if sep else None
            cause: int | None = None
            raw_cause = params.get("cause")
            if raw_cause is not None and raw_cause.strip().isdigit():
                cause = int(raw_cause.strip())
            parsed.append(
                ReasonValue(protocol=protocol, cause=cause, text=params.get("text"), params=params)
            )
    return parsed


def q850_cause(reasons: Iterable[ReasonValue]) -> int | None:
    """The first Q.850 cause among the reason values, if any."""
    for reason in reasons:
        if reason.protocol.upper() == "Q.850" and reason.cause is not None:
            return reason.cause
    return None


def sip_cause(reasons: Iterable[ReasonValue]) -> int | None:
    """The first SIP cause among the reason values, if any."""
    for reason in reasons:
        if reason.protocol.upper() == "SIP" and reason.cause is not None:
            return reason.cause
    return None
