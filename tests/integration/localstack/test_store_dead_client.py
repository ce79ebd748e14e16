"""A client killed inside a transaction leaves nothing of it behind in the store.

On MongoDB the transaction was never committed, so its writes were never visible.
The local store (nx-27017 through `lc_localstack.store_server`) must agree: without
the wrapper, an insert made in a transaction stayed visible after kill -9, and
billing's charge marker outlived a charge that never happened.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import uuid

import pytest
from pymongo import AsyncMongoClient
from tests.support import until

pytestmark = [pytest.mark.mongo, pytest.mark.timeout(60)]

_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pymongo import AsyncMongoClient

    async def main(uri, database):
        client = AsyncMongoClient(uri)
        charges = client[database]["charges"]
        await charges.insert_one({"_id": "committed"})
        session = client.start_session()
        await session.start_transaction()
        await charges.insert_one({"_id": "in_transaction"}, session=session)
        print("inserted", flush=True)
        await asyncio.sleep(300)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_a_killed_clients_open_transaction_is_undone(mongodb_uri: str) -> None:
    database = f"t{uuid.uuid4().hex[:10]}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, mongodb_uri, database, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line.strip() == b"inserted"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri)
    charges = client[database]["charges"]

    async def ids() -> set[object]:
        return {doc["_id"] async for doc in charges.find({}, {"_id": 1})}

    async def only_committed() -> bool:
        return await ids() == {"committed"}

    try:
        await until(only_committed, 15, "the killed client's insert to be undone")
        # The store goes on committing transactions of live clients.
        async with client.start_session() as session, await session.start_transaction():
            await charges.insert_one({"_id": "after"}, session=session)
        assert await ids() == {"committed", "after"}
    finally:
        await client.drop_database(database)
        await client.close()
