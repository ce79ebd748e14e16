"""Which trunk carries a call, and how many more calls each trunk can take."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from lc_common.trunks import Trunk


def outstanding_bound(trunk: Trunk, factor: float, loop_seconds: float = 0.0) -> int:
    """At most this many probe requests may be outstanding on a trunk.

    An outstanding probe holds its place from dispatch until its verdict comes
    back, so by Little's law a trunk kept full needs what its channels hold plus
    what it starts while a verdict travels: channels + CPS x `loop_seconds` (the
    dispatch-to-verdict time of a request that waits for nothing: relay, prober,
    classifier). Never less than channels x `factor`. The queue of requests in
    the topic stays a few seconds long, so fairness acts within seconds (and
    pause at once: the prober drops a paused batch's requests).
    """
    little = trunk.channels + math.ceil(trunk.cps * loop_seconds)
    return max(1, math.ceil(trunk.channels * factor), little)


def carriers(trunks: Sequence[Trunk], e164: str) -> list[Trunk]:
    """The trunks that may carry a call to the number."""
    return [t for t in trunks if t.carries(e164)]


def choose_trunk(
    trunks: Sequence[Trunk],
    e164: str,
    free: Mapping[str, int],
    avoid: str | None = None,
) -> str | None:
    """The trunk for one call, or None if no trunk that carries it has room now.

    A trunk to avoid (after a trunk fault, or to confirm a verdict elsewhere) is
    used only where it is the only trunk carrying the number. Among the rest the
    one with the most free room wins, which spreads load in proportion to size.
    """
    candidates = carriers(trunks, e164)
    if avoid is not None and any(t.name != avoid for t in candidates):
        candidates = [t for t in candidates if t.name != avoid]
    best: str | None = None
    best_free = 0
    for trunk in candidates:
        room = free.get(trunk.name, 0)
        if room > best_free:
            best, best_free = trunk.name, room
    return best
