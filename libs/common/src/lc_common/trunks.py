"""SIP trunks, read from the YAML file named by `LC_TRUNKS_FILE` (DESIGN.md section 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter

DEFAULT_LANES = 8
"""Partitions of a trunk's request topic when neither the file nor its limits say fewer."""

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class Trunk(BaseModel):
    """One SIP trunk: where to send calls and how many it takes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    host: str
    port: int = 5060
    transport: Literal["udp", "tcp"] = "udp"
    channels: int = Field(10, ge=1)
    cps: float = Field(5.0, gt=0)
    username: str | None = None
    password: SecretStr | None = None
    prefixes: list[str] = Field(default_factory=list)
    lanes: int = Field(DEFAULT_LANES, ge=1)
    """Partitions of the trunk's request topic, each a lane with a share of its limits
    (`lc_common.lanes`); fewer where the channels or CPS cannot feed that many."""
    caller_id: str | None = Field(None, pattern=E164_PATTERN)
    """The calling line identity (E.164, a number the operator holds) sent in From and
    P-Asserted-Identity; carriers block or mark calls without a valid one, so the
    prober refuses to start in production without it (`require_caller_ids`)."""

    def carries(self, e164: str) -> bool:
        """True if this trunk may carry a call to the number."""
        return not self.prefixes or any(e164.startswith(p) for p in self.prefixes)


_TRUNK_LIST = TypeAdapter(list[Trunk])


def parse_trunks(text: str) -> list[Trunk]:
    """Trunks from YAML text: a list, or a mapping with a `trunks` list."""
    data = yaml.safe_load(text)
    if isinstance(data, dict):
        data = data.get("trunks")
    trunks = _TRUNK_LIST.validate_python(data or [])
    names = [t.name for t in trunks]
    if len(set(names)) != len(names):
        raise ValueError(f"trunk names must be unique: {names}")
    if not trunks:
        raise ValueError("the trunks file lists no trunk")
    return trunks


def require_caller_ids(trunks: list[Trunk]) -> None:
    """Raise ValueError naming every trunk that has no `caller_id`."""
    missing = [t.name for t in trunks if t.caller_id is None]
    if missing:
        raise ValueError(
            f"trunks without a caller_id (an E.164 number the operator holds): {missing}"
        )


def load_trunks(path: Path) -> list[Trunk]:
    """Trunks from the file at `path`."""
    return parse_trunks(path.read_text())
