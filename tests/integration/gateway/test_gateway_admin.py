"""`python -m lc_gateway.admin` against the real store."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from lc_common.store import connect_mongo, database
from lc_gateway.accounts import AccountService
from lc_gateway.adapters.mongo import MongoAccountRepository
from lc_gateway.config import GatewaySettings

pytestmark = pytest.mark.mongo


async def admin(env: dict[str, str], *args: str) -> tuple[int, dict[str, str], str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lc_gateway.admin",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    result = json.loads(out) if process.returncode == 0 else {}
    return process.returncode, result, err.decode()


async def test_create_account_is_idempotent_on_the_login(gateway_env: dict[str, str]) -> None:
    args = ("--name", "Demo Calls", "--email", "Demo@Example.com", "--password", "demo-pass")
    code, first, err = await admin(gateway_env, "create-account", *args)
    assert code == 0, err
    assert first["account_id"].startswith("acc_")
    assert first["login"] == "demo@example.com"
    assert first["api_key"].startswith("lc_live_")

    code, second, err = await admin(gateway_env, "create-account", *args)
    assert code == 0, err
    assert second["account_id"] == first["account_id"]
    assert second["api_key"] != first["api_key"]

    code, third, err = await admin(gateway_env, "create-api-key", "--login", "demo@example.com")
    assert code == 0, err
    assert third["account_id"] == first["account_id"]

    settings = GatewaySettings()
    client = connect_mongo(settings)
    try:
        db = database(client, settings)
        service = AccountService(MongoAccountRepository(db))
        for result in (first, second, third):
            account = await service.account_for_api_key(result["api_key"])
            assert account is not None
            assert account.id == first["account_id"]
        assert await service.authenticate("demo@example.com", "demo-pass") is not None
        assert await db["accounts"].count_documents({}) == 1
        stored = await db["api_keys"].find({}).to_list()
        assert len(stored) == 3
        assert all(first["api_key"] not in str(doc) for doc in stored)
    finally:
        await client.close()

    code, _, err = await admin(gateway_env, "create-api-key", "--login", "nobody@example.com")
    assert code == 1
    assert "no user" in err
