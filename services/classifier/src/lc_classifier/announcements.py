"""The operator's library of known carrier announcements, and recognising one in early media.

A voice in early media is no evidence on its own: live lines play "the mobile you are
calling is switched off", "please hold" and caller tunes every day. An announcement
counts only when it is *recognised*: its fingerprint (landmark hashes computed by the
prober, `lc_prober.adapters.media.fingerprint`) matches an entry of this library, and the
evidence names that entry.

The library is a directory (`LC_CLASSIFIER_ANNOUNCEMENTS_DIR`) of YAML or JSON files,
one announcement each::

    id: telstra-not-connected          # what the evidence shows
    description: "The number you have called is not connected"
    status: disconnected               # or connected / indeterminate (e.g. switched off)
    fingerprint: <base64>              # `python -m lc_prober.adapters.media.fingerprint rec.wav`

Matching is pure Python (dict look-ups): a hash of the call's audio found in an entry
votes for the time offset between the two; a real match is many votes on one offset
(±1 column), chance coincidences scatter.
"""

from __future__ import annotations

import base64
import struct
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

AnnouncementStatus = Literal["connected", "disconnected", "indeterminate"]

MIN_VOTES = 8
"""Hashes agreeing on one offset before an announcement counts as recognised."""
MIN_SHARE = 0.05
"""... and that share of the call's hashes (chance agreement stays far below both)."""


class AnnouncementEntry(BaseModel):
    """One known announcement, as the operator writes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
    description: str = ""
    status: AnnouncementStatus = "disconnected"
    fingerprint: str = Field(min_length=8)


@dataclass(frozen=True, slots=True)
class Recognised:
    """A library entry the call's early media matched, and how strongly."""

    id: str
    status: AnnouncementStatus
    votes: int
    share: float


def decode(text: str) -> list[tuple[int, int]]:
    """(hash, column) pairs from the wire form (big-endian uint32 `hash << 12 | column`)."""
    raw = base64.b64decode(text, validate=True)
    if len(raw) % 4:
        raise ValueError("a fingerprint is a whole number of 32-bit values")
    return [(v >> 12, v & 0xFFF) for v in struct.unpack(f">{len(raw) // 4}I", raw)]


@dataclass
class AnnouncementLibrary:
    """Known announcements, indexed by hash for matching."""

    entries: list[AnnouncementEntry] = field(default_factory=list)
    _index: dict[int, list[tuple[int, int]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ids = [e.id for e in self.entries]
        if len(ids) != len(set(ids)):
            raise ValueError("announcement ids must be unique")
        index: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for number, entry in enumerate(self.entries):
            for hash_, column in decode(entry.fingerprint):
                index[hash_].append((number, column))
        self._index = dict(index)

    def __len__(self) -> int:
        return len(self.entries)

    def recognise(self, fingerprint: str | None) -> Recognised | None:
        """The entry the fingerprint matches best, if it matches one at all.

        A fingerprint that does not decode is treated as no match: it is the
        prober's evidence, and a bad one must not make a lead disconnected.
        """
        if not fingerprint or not self._index:
            return None
        try:
            marks = decode(fingerprint)
        except ValueError:
            return None
        if not marks:
            return None
        votes: Counter[tuple[int, int]] = Counter()
        for hash_, column in marks:
            for number, ref_column in self._index.get(hash_, ()):
                # Columns wrap at 4096 on the wire: offsets compare modulo that.
                votes[number, (ref_column - column) & 0xFFF] += 1
        best: tuple[int, int] | None = None
        for (number, offset), count in votes.items():
            # Frame grids differ by up to half a column: neighbours count too.
            total = (
                count
                + votes.get((number, (offset + 1) & 0xFFF), 0)
                + votes.get((number, (offset - 1) & 0xFFF), 0)
            )
            if best is None or total > best[1]:
                best = (number, total)
        if best is None:
            return None
        number, total = best
        share = total / len(marks)
        if total < MIN_VOTES or share < MIN_SHARE:
            return None
        entry = self.entries[number]
        return Recognised(entry.id, entry.status, total, round(share, 3))


def load_library(directory: Path | None) -> AnnouncementLibrary:
    """Every `*.yaml`, `*.yml` and `*.json` entry in `directory` (none: an empty library)."""
    if directory is None:
        return AnnouncementLibrary()
    if not directory.is_dir():
        raise ValueError(f"announcement library {directory} is not a directory")
    entries = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            data = yaml.safe_load(path.read_text("utf-8"))
            try:
                entry = AnnouncementEntry.model_validate(data)
                decode(entry.fingerprint)
            except ValueError as exc:
                raise ValueError(f"announcement {path}: {exc}") from exc
            entries.append(entry)
    return AnnouncementLibrary(entries)
