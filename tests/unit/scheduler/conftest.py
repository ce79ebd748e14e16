"""Fixtures of the scheduler's unit tests (no broker, no store)."""

from __future__ import annotations

import sys
from pathlib import Path

# The tests import their fakes (`scheduler_fakes`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))
