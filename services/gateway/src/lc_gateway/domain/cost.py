"""The cost of a dry run: what an import would take from the account's credit (contract C1)."""

from __future__ import annotations


def cost(accepted: int, available: int) -> dict[str, int]:
    """`{"units", "balance", "short_by"}`: one unit per accepted row against what is available."""
    units = max(accepted, 0)
    return {"units": units, "balance": available, "short_by": max(units - available, 0)}
