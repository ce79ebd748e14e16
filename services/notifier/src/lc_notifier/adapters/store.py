"""The sent-notification log and the accounts active per day, in MongoDB.

- `notifications`: `_id` = the notification key (`final:<batch>`,
  `daily:<acc>:<local date>`, `credit:<event id>`),
  `state` claimed → sent | skipped | failed; claimed before sending so a key is sent
  once even across restarts, redelivery and several notifier replicas.
- `active_days`: `_id` = `<local date>:<account>`, one per account that had a final
  verdict on that date of its own time zone (kept in `time_zone`); `pending` until its
  daily summary was dealt with.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lc_common.store import Document
from lc_notifier import domain
from lc_notifier.domain import ClaimAction, LogEntry, Notification


def _entry(doc: Document | None) -> LogEntry | None:
    if doc is None:
        return None
    return LogEntry(
        state=doc["state"],
        attempts=int(doc.get("attempts", 0)),
        claimed_at=doc["claimed_at"],
        not_before=doc.get("not_before"),
    )


def _notification(doc: Document) -> Notification:
    day = doc.get("day")
    return Notification(
        kind=doc["kind"],
        account_id=doc["account_id"],
        batch_id=doc.get("batch_id"),
        day=date.fromisoformat(day) if day else None,
        event_id=doc.get("event_id"),
    )


class NotificationLog:
    """Who sent what: claims, outcomes and failures per notification key."""

    def __init__(self, db: AsyncDatabase[Document], stale_after: timedelta, max_attempts: int):
        self._docs = db["notifications"]
        self._stale_after = stale_after
        self._max_attempts = max_attempts

    async def ensure_indexes(self) -> None:
        await self._docs.create_index([("state", 1), ("claimed_at", 1)])

    async def state(self, note: Notification) -> str | None:
        doc = await self._docs.find_one({"_id": note.key}, {"state": 1})
        return None if doc is None else str(doc["state"])

    async def claim(self, note: Notification, now: datetime) -> ClaimAction:
        """Take the notification for this sender; `claim`/`retake` mean: go ahead and send."""
        for _ in range(5):
            doc = await self._docs.find_one({"_id": note.key})
            action = domain.claim_action(_entry(doc), now, self._stale_after, self._max_attempts)
            if action == "claim":
                try:
                    await self._docs.insert_one(
                        {
                            "_id": note.key,
                            "kind": note.kind,
                            "account_id": note.account_id,
                            "batch_id": note.batch_id,
                            "day": note.day.isoformat() if note.day else None,
                            "event_id": note.event_id,
                            "state": "claimed",
                            "attempts": 1,
                            "claimed_at": now,
                            "created_at": now,
                        }
                    )
                    return action
                except DuplicateKeyError:
                    continue  # another sender claimed it first: look again
            elif action == "retake":
                assert doc is not None
                retaken = {"state": "claimed", "claimed_at": now, "attempts": doc["attempts"] + 1}
                if await self._replace(doc, retaken):
                    return action
            else:
                return action
        return "busy"

    async def _replace(self, doc: Document, changes: dict[str, Any]) -> bool:
        """Compare-and-set on (state, attempts). A whole-document replace, because
        nx-27017 stores datetimes given to `$set` as strings (then `$lte` stops working).
        """
        query = {"_id": doc["_id"], "state": doc["state"], "attempts": doc["attempts"]}
        body = {k: v for k, v in {**doc, **changes}.items() if k != "_id"}
        result = await self._docs.replace_one(query, body)
        return result.modified_count == 1

    async def _finish(self, note: Notification, states: tuple[str, ...], changes: Document) -> None:
        doc = await self._docs.find_one({"_id": note.key})
        if doc is not None and doc["state"] in states:
            await self._replace(doc, changes)

    async def mark_sent(self, note: Notification, now: datetime, to: str) -> None:
        await self._finish(note, ("claimed",), {"state": "sent", "sent_at": now, "to": to})

    async def mark_skipped(self, note: Notification, now: datetime, reason: str) -> None:
        changes = {"state": "skipped", "skipped_at": now, "reason": reason}
        await self._finish(note, ("claimed",), changes)

    async def mark_failed(self, note: Notification, now: datetime, error: str) -> None:
        doc = await self._docs.find_one({"_id": note.key})
        if doc is None or doc["state"] != "claimed":
            return
        changes = {
            "state": "failed",
            "failed_at": now,
            "error": error[:1000],
            "not_before": now + domain.retry_delay(int(doc["attempts"])),
        }
        await self._replace(doc, changes)

    async def abandon(self, note: Notification, now: datetime, reason: str) -> None:
        """Give up on a claimed or failed notification that can never be sent."""
        changes = {"state": "skipped", "skipped_at": now, "reason": reason[:1000]}
        await self._finish(note, ("claimed", "failed"), changes)

    async def to_retry(self, now: datetime) -> list[Notification]:
        """Failed sends whose back-off passed, and claims abandoned by a crashed sender."""
        cursor = self._docs.find(
            {
                "$or": [
                    {
                        "state": "failed",
                        "attempts": {"$lt": self._max_attempts},
                        "not_before": {"$lte": now},
                    },
                    {"state": "claimed", "claimed_at": {"$lte": now - self._stale_after}},
                ]
            }
        ).limit(500)
        return [_notification(doc) async for doc in cursor]


class ActivityLog:
    """Accounts that had final verdicts on a local date: whose daily summary may be due."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._docs = db["active_days"]

    async def ensure_indexes(self) -> None:
        await self._docs.create_index([("state", 1), ("day", 1)])

    async def record(self, account_id: str, day: date, time_zone: str, now: datetime) -> None:
        """Idempotent: the first final verdict of the account's local date `day` (in
        `time_zone`) creates the row, the rest find it; a row already done stays done."""
        with suppress(DuplicateKeyError):  # a racing upsert created it: what we wanted
            await self._docs.update_one(
                {"_id": f"{day.isoformat()}:{account_id}"},
                {
                    "$setOnInsert": {
                        "account_id": account_id,
                        "day": day.isoformat(),
                        "time_zone": time_zone,
                        "state": "pending",
                        "first_seen": now,
                    }
                },
                upsert=True,
            )

    async def pending(self, up_to: date) -> list[tuple[str, date]]:
        """(account, local date) pairs whose summary was not dealt with yet, dates up to
        `up_to`, oldest first."""
        cursor = self._docs.find({"state": "pending", "day": {"$lte": up_to.isoformat()}}).sort(
            "day", 1
        )
        return [(doc["account_id"], date.fromisoformat(doc["day"])) async for doc in cursor]

    async def mark_done(self, account_id: str, day: date, now: datetime) -> None:
        await self._docs.update_one(
            {"_id": f"{day.isoformat()}:{account_id}"},
            {"$set": {"state": "done", "done_at": now}},
        )
