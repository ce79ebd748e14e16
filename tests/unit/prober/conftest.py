"""Helpers of the prober's unit tests: synthesized telephone audio (see prober_audio.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# The tests import `prober_audio` from this folder.
sys.path.insert(0, str(Path(__file__).parent))
