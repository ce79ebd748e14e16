"""Lanes: how a trunk's channels and calls per second are split over its topic's partitions.

Each partition of `probe.requests.<trunk>` is a lane. A lane owns a fixed share of
the trunk's channels and CPS, so whichever prober replica is assigned a partition
applies that lane's share and the trunk's limits hold however many replicas run
(and move with the partitions when the group rebalances).

Shares are whole numbers where they can be: every lane gets at least one channel
and, when the trunk allows one call per second or more, a whole number of calls
per second. Whole per-second budgets are what make the sum exact: lanes that each
start at most k_i calls in any one-second window start at most sum(k_i) together.
A fractional CPS above 1 is therefore rounded down (a trunk of 7.5 CPS is used at
7); a CPS below 1 gives a single lane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lc_common.trunks import DEFAULT_LANES, Trunk

__all__ = ["DEFAULT_LANES", "LaneShare", "lane_count", "lane_cycle", "lane_shares", "max_lanes"]


@dataclass(frozen=True, slots=True)
class LaneShare:
    """One lane's share of its trunk: channels, and starts allowed per window."""

    lane: int
    channels: int
    starts: int
    """Calls this lane may start in any `window_seconds`."""
    window_seconds: float

    @property
    def cps(self) -> float:
        """The lane's calls per second."""
        return self.starts / self.window_seconds


def max_lanes(trunk: Trunk) -> int:
    """The most lanes the trunk can be split into (each needs a channel and a whole CPS)."""
    return max(1, min(trunk.channels, math.floor(trunk.cps)))


def lane_count(trunk: Trunk) -> int:
    """How many partitions the trunk's request topic should have: its `lanes`, or
    fewer when its channels or CPS cannot give each lane a channel and a whole CPS."""
    return max(1, min(trunk.lanes, max_lanes(trunk)))


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def lane_shares(trunk: Trunk, lanes: int) -> list[LaneShare]:
    """The share of each of `lanes` lanes; channels and starts sum to the trunk's limits.

    Raises ValueError when the trunk cannot give every lane a channel and a whole CPS
    (the topic has more partitions than `max_lanes`).
    """
    if lanes < 1:
        raise ValueError("a trunk needs at least one lane")
    if lanes > max_lanes(trunk):
        raise ValueError(
            f"trunk {trunk.name} (channels {trunk.channels}, cps {trunk.cps:g}) can be split "
            f"into at most {max_lanes(trunk)} lanes, not {lanes}: give its request topic "
            "fewer partitions"
        )
    channels = _split(trunk.channels, lanes)
    if trunk.cps < 1:
        return [LaneShare(0, channels[0], 1, 1.0 / trunk.cps)]
    starts = _split(math.floor(trunk.cps), lanes)
    return [LaneShare(i, channels[i], starts[i], 1.0) for i in range(lanes)]


def lane_cycle(shares: list[LaneShare]) -> list[int]:
    """The lanes in the order a dispatcher should feed them, one turn per start each
    lane may make in its window, spread evenly over the cycle.

    Feeding requests round this cycle gives each lane work in proportion to its CPS,
    so no lane's queue grows while another idles (a key hash would not: a few lanes
    get more than their share and hold the trunk's requests in their queues).
    """
    turns = [(k / share.starts, share.lane) for share in shares for k in range(share.starts)]
    return [lane for _, lane in sorted(turns)]
