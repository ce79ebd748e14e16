"""nx-27017 with one fix: a transaction ends with the client that opened it.

MongoDB aborts an open transaction whose client went away: the process that began it
was killed, so nothing it wrote in the transaction is kept. nx-27017 (0.8) keeps the
transaction open on the database's one SQLite connection for good, so a client
killed with kill -9 between two statements leaves its first statements visible to
everyone (measured: an insert made in a transaction, then kill -9, is read back by
the next client). Billing's charge marker is such a statement: a billing process
killed mid-charge left the marker without the charge, and the replayed verdict was
taken for a duplicate.

This wrapper keeps nx-27017 as it is and adds what MongoDB does: it notes which
client connections carried each session's commands, and when the last of them
closes while the session still has a transaction open, it aborts that transaction.
A live client keeps other connections of its pool open, so only a client that is
gone loses its transaction. Written here because nx-27017 has no hook for it.

Run as `python -m lc_localstack.store_server` with nx-27017's own arguments.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import defaultdict
from typing import Any

from nx_27017 import daemon
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.nx_27017 import main as nx_main
from nx_27017.wire_protocol import _extract_session_id

logger = logging.getLogger(__name__)


def session_of(msg: dict[str, Any]) -> str | None:
    """The session id (lsid) of a parsed OP_MSG, or None for a command without one."""
    for kind, section in msg.get("sections", ()):
        if kind == "body" and isinstance(section, dict):
            lsid = section.get("lsid")
            return _extract_session_id(lsid) if isinstance(lsid, dict) else None
    return None


class SessionConnections:
    """Which client connections carried each session's commands (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: defaultdict[str, set[str]] = defaultdict(set)
        self._sessions: defaultdict[str, set[str]] = defaultdict(set)

    def carried(self, conn_id: str, session_id: str) -> None:
        """A command of `session_id` came over `conn_id`."""
        with self._lock:
            self._connections[session_id].add(conn_id)
            self._sessions[conn_id].add(session_id)

    def closed(self, conn_id: str) -> list[str]:
        """Forget a closed connection; the sessions no open connection carries any more."""
        with self._lock:
            orphaned = []
            for session_id in self._sessions.pop(conn_id, set()):
                left = self._connections[session_id]
                left.discard(conn_id)
                if not left:
                    del self._connections[session_id]
                    orphaned.append(session_id)
            return orphaned


class ClientBoundTransactions(NeoSQLiteHandler):  # type: ignore[misc]
    """nx-27017's handler, aborting the open transactions of a client that went away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._carriers = SessionConnections()

    def handle_command(self, msg: dict[str, Any]) -> Any:
        self._note(msg)
        return super().handle_command(msg)

    def handle_insert(self, msg: dict[str, Any]) -> Any:
        self._note(msg)
        return super().handle_insert(msg)

    def _note(self, msg: dict[str, Any]) -> None:
        conn_id = msg.get("_conn_id")
        session_id = session_of(msg)
        if conn_id and session_id:
            self._carriers.carried(conn_id, session_id)

    def close_streams_for_connection(self, conn_id: Any) -> None:
        super().close_streams_for_connection(conn_id)
        if conn_id is None:
            return
        for session_id in self._carriers.closed(conn_id):
            for session in self._tx_sessions(session_id):
                try:
                    session.abort_transaction()
                except Exception:  # already ended: nothing left to undo
                    logger.exception("abort of an orphaned transaction failed")
                else:
                    logger.warning("aborted the open transaction of a client that went away")


def main() -> int:
    """Run nx-27017 (its own command line) with `ClientBoundTransactions` as its handler."""
    daemon.NeoSQLiteHandler = ClientBoundTransactions
    sys.argv[0] = "nx-27017"
    result = nx_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
