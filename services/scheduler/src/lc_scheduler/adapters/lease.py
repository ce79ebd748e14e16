"""The lease document in MongoDB, changed only by compare-and-set on its version.

Times are stored as fixed-width ISO text (`to_store_time`), which every
MongoDB-wire server compares correctly; a whole-document replace filtered on
`_id` and `version` is atomic on MongoDB and on nx-27017 alike, and a first
insert that races another gets DuplicateKeyError, which is a lost race.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lc_common.store import from_store_time, to_store_time
from lc_scheduler.domain.lease import Lease

Document = dict[str, Any]
LEASES = "leases"


def _to_doc(lease: Lease) -> Document:
    return {
        "_id": lease.name,
        "owner": lease.owner,
        "expires_at": to_store_time(lease.expires_at),
        "acquired_at": to_store_time(lease.acquired_at),
        "version": lease.version,
        "epoch": lease.epoch,
    }


def _from_doc(doc: Document) -> Lease:
    expires = from_store_time(doc["expires_at"])
    acquired = from_store_time(doc["acquired_at"])
    assert expires is not None and acquired is not None
    # A lease written before epochs existed is in its first term.
    epoch = int(doc.get("epoch", 1))
    return Lease(doc["_id"], doc["owner"], expires, int(doc["version"]), acquired, epoch)


class MongoLeaseStore:
    """Reads the lease and writes it if nobody changed it meanwhile."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._leases = db[LEASES]

    async def read(self, name: str) -> Lease | None:
        """The stored lease, or None if there is none yet."""
        doc = await self._leases.find_one({"_id": name})
        return _from_doc(doc) if doc else None

    async def write(self, lease: Lease, expected_version: int | None) -> bool:
        """Store `lease` if the stored version is still `expected_version` (None: no lease yet)."""
        doc = _to_doc(lease)
        if expected_version is None:
            try:
                await self._leases.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self._leases.replace_one(
            {"_id": lease.name, "version": expected_version}, doc
        )
        return result.matched_count == 1
