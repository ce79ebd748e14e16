"""Parallel logins queue for the password hasher instead of exhausting the gateway's memory.

Each login costs one Argon2 hash of 64 MiB. The gateway runs at most
`LC_PASSWORD_HASH_SLOTS` (2) at once, so 20 logins at the same moment need at
most 2 x 64 MiB of hashing memory, not 20 x. The gateway runs as its own process
(uvicorn, the real app, the real store), so its resident memory is read from
/proc while the logins are under way.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.flood import rss_bytes, served
from tests.integration.gateway.standins import free_address

pytestmark = pytest.mark.mongo

MIB = 1024 * 1024
ARGON2_MEMORY = 64 * MIB
HASH_SLOTS = 2
# What the hashes may add at their peak, plus what 20 requests and the allocator's
# slack cost; without the slots, the thread pool alone runs 6 hashes at once (384 MiB).
BOUND = HASH_SLOTS * ARGON2_MEMORY + 80 * MIB
LOGIN = "abuse@example.com"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
async def gateway(mongodb_uri: str, isolation: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    """The gateway as a process with one account; its URL and process id."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LC_")},
        "MONGODB_URI": mongodb_uri,
        "LC_MONGODB_DATABASE": isolation["LC_MONGODB_DATABASE"],
        "LC_ENVIRONMENT": "test",
        "LC_INSECURE_COOKIES": "true",
        "LC_PASSWORD_HASH_SLOTS": str(HASH_SLOTS),
    }
    admin = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "lc_gateway.admin", "create-account", "--name", "Abuse"),
        *("--email", LOGIN, "--password", PASSWORD),
        env=env,
        stdout=subprocess.PIPE,
    )
    out, _ = await admin.communicate()
    assert admin.returncode == 0
    assert json.loads(out.decode().strip().splitlines()[-1])["login"] == LOGIN
    url = free_address()
    host, port = url.removeprefix("http://").split(":")
    argv = [sys.executable, "-m", "uvicorn", "--factory", "lc_gateway.main:app_from_environment"]
    argv += ["--host", host, "--port", port, "--no-access-log"]
    async with served(argv, env, url, "the gateway", within=30) as pid:
        yield url, pid


async def log_in(url: str, password: str) -> int:
    """One browser's login: fetch the form (its CSRF token), post it; the status answered."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as browser:
        form = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = await browser.post(
            "/login",
            data={"csrf_token": token.group(1), "email": LOGIN, "password": password},
        )
        return answer.status_code


async def test_twenty_parallel_logins_stay_within_two_hashes_of_memory(
    gateway: tuple[str, int],
) -> None:
    url, pid = gateway
    assert await log_in(url, PASSWORD) == 303  # warm: the first hash's memory is the baseline
    baseline = rss_bytes(pid)
    peak = baseline
    attempts = [log_in(url, PASSWORD) for _ in range(16)] + [
        log_in(url, f"wrong-{n}") for n in range(4)
    ]
    logins = asyncio.gather(*attempts)
    while not logins.done():
        peak = max(peak, rss_bytes(pid))
        await asyncio.sleep(0.01)
    statuses = await logins
    assert statuses.count(303) == 16, statuses
    assert sorted(set(statuses) - {303}) in ([401], [401, 429], [429]), statuses
    assert peak - baseline < BOUND, f"RSS grew by {(peak - baseline) / MIB:.0f} MiB"
