"""The lanes of one trunk that this replica serves: a channel bound and a start window each.

Implements `lc_common.consumer.PartitionLimits`: the consumer runner asks each
lane's limit before taking its events, so a lane at its channels (or a trunk
backing off) is paused in the consumer and never holds the others up.
"""

from __future__ import annotations

import contextlib

import structlog

from lc_common.lanes import LaneShare
from lc_common.trunks import Trunk
from lc_prober.domain.health import TrunkHealth
from lc_prober.domain.rate import StartWindow
from lc_prober.metrics import CHANNEL_LIMIT, CPS_LIMIT

log = structlog.get_logger(__name__)


class Lane:
    """One partition's share of the trunk: its channels and its call-start window."""

    def __init__(self, share: LaneShare) -> None:
        self.share = share
        self.starts = StartWindow(share.starts, share.window_seconds)


class TrunkLanes:
    """Per-partition limits of one trunk, following the consumer's assignment."""

    def __init__(self, trunk: Trunk, shares: list[LaneShare], health: TrunkHealth) -> None:
        self.trunk = trunk
        self.health = health
        self._lanes = {share.lane: Lane(share) for share in shares}
        self._owned: frozenset[int] = frozenset()
        self._stopped = False

    @property
    def owned(self) -> frozenset[int]:
        """The lanes (partitions) this replica serves now."""
        return self._owned

    def lane(self, partition: int) -> Lane:
        """The lane of a partition."""
        return self._lanes[partition]

    def stop(self) -> None:
        """Take no more requests on any lane (the prober is stopping)."""
        self._stopped = True

    def limit(self, partition: int) -> int:
        """Channels the lane may use now: none while backing off or stopping, one per lane
        on trial."""
        lane = self._lanes.get(partition)
        if lane is None or self._stopped:
            return 0
        state = self.health.state
        if state == "backing_off":
            return 0
        if state == "probing":
            return 1
        return lane.share.channels

    def assigned(self, partitions: frozenset[int]) -> None:
        """Export the limits of the lanes now ours."""
        unknown = partitions - self._lanes.keys()
        if unknown:
            log.error("lanes_unknown", trunk=self.trunk.name, partitions=sorted(unknown))
        self._owned = partitions & self._lanes.keys()
        for p in self._owned:
            share = self._lanes[p].share
            CHANNEL_LIMIT.labels(self.trunk.name, str(p)).set(share.channels)
            CPS_LIMIT.labels(self.trunk.name, str(p)).set(share.cps)
        log.info(
            "lanes_assigned",
            trunk=self.trunk.name,
            lanes=sorted(self._owned),
            channels=sum(self._lanes[p].share.channels for p in self._owned),
        )

    def revoked(self, partitions: frozenset[int]) -> None:
        """Stop exporting the limits of lanes that moved to another replica."""
        for p in partitions & self._owned:
            for gauge in (CHANNEL_LIMIT, CPS_LIMIT):
                with contextlib.suppress(KeyError):
                    gauge.remove(self.trunk.name, str(p))
        self._owned = self._owned - partitions
