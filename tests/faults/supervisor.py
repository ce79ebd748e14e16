"""What Kubernetes does for a pod whose process exits: start it again.

A service may exit on purpose under a fault (a scheduler that lost its lease, a
consumer whose group vanished with the broker); the system's promises assume it is
started again, as `restartPolicy: Always` does in deploy/k8s and `lc-stack
supervise` does locally. Processes a test killed itself (`Stack.kill`) are held
until the test restarts them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from tests.e2e.stack import Stack

BACKOFF_SECONDS = 1.0  # Kubernetes starts at 10 s; the harness's clocks are shorter


class Supervisor:
    """A thread restarting every exited, unheld process of a stack."""

    def __init__(self, stack: Stack, every: float = 0.5) -> None:
        self._stack = stack
        self._every = every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fault-supervisor", daemon=True)
        self.restarts: Counter[str] = Counter()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop restarting; call before the stack stops."""
        self._stopping.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stopping.wait(self._every):
            for name, proc in list(self._stack.processes.items()):
                if name in self._stack.held or proc.poll() is None:
                    continue
                time.sleep(BACKOFF_SECONDS)
                if self._stopping.is_set() or name in self._stack.held:
                    return
                self.restarts[name] += 1
                self._stack.restart(name, ready=False)
