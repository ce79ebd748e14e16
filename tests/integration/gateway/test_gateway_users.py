"""Users of an account through the real gateway, the real store and a real SMTP mailbox:
invitations, roles, removal, password change and reset by mailed, single-use links."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.gateway.conftest import (
    PASSWORD,
    Stack,
    csrf_token_of,
    log_in,
    running_stack,
)
from tests.integration.gateway.test_gateway_api import bearer
from tests.support import until

from lc_common.store import connect_mongo, database
from lc_gateway.domain.accounts import CreatedAccount
from lc_gateway.domain.credentials import hash_password
from lc_localstack.mailbox import Mailbox, running_mailbox

pytestmark = [pytest.mark.mongo, pytest.mark.smtp]

MEMBER_PASSWORD = "a member's own passphrase"


@dataclass
class Mailed:
    """A gateway and the mailbox its mails land in."""

    stack: Stack
    mailbox: Mailbox

    async def link(self, count: int, path: str) -> str:
        """The path of the link in the `count`-th mail (waiting for it to arrive)."""
        mails = await self.mailbox.wait_for(count)
        body = mails[count - 1].get_content()
        match = re.search(rf"{re.escape(self.stack.url)}({path}/[A-Za-z0-9_-]+)", body)
        assert match, body
        return match.group(1)


@asynccontextmanager
async def mailed_stack(tmp_path: Path, **overrides: Any) -> AsyncIterator[Mailed]:
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        running_stack(smtp_port=mailbox.port, **overrides) as stack,
    ):
        yield Mailed(stack, mailbox)


def client(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.url, timeout=30)


async def invite(http: httpx.AsyncClient, token: str, email: str, role: str = "member") -> None:
    answer = await http.post(
        "/users/invite", data={"email": email, "role": role, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    assert email in (await http.get("/users")).text


async def accept(
    http: httpx.AsyncClient, link: str, name: str = "Mia Member", password: str = MEMBER_PASSWORD
) -> httpx.Response:
    page = await http.get(link)
    assert page.status_code == 200, page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    form = {"name": name, "password": password, "confirm": password}
    return await http.post(link, data={**form, "csrf_token": csrf_token_of(page.text)})


async def invited_member(mailed: Mailed, owner: CreatedAccount, email: str) -> str:
    """Invite `email` as the owner and accept it; the member's login."""
    count = len(mailed.mailbox.files()) + 1
    async with client(mailed.stack) as boss, client(mailed.stack) as newcomer:
        await invite(boss, await log_in(boss, owner.login), email)
        answer = await accept(newcomer, await mailed.link(count, "/invitations"))
        assert answer.status_code == 303 and answer.headers["location"] == "/batches"
    return email


async def test_an_invited_member_accepts_by_mail_and_logs_in(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed, client(mailed.stack) as boss:
        stack = mailed.stack
        owner = await stack.new_account("Invite Co")
        token = await log_in(boss, owner.login)
        await invite(boss, token, "Mia@Invite.example")

        [mail] = await mailed.mailbox.wait_for(1)
        assert mail["To"] == "mia@invite.example"
        assert "Invite Co" in mail["Subject"]
        link = await mailed.link(1, "/invitations")

        async with client(stack) as newcomer:
            accepted = await accept(newcomer, link)
            assert accepted.status_code == 303 and accepted.headers["location"] == "/batches"
            # Logged in at once, as the new member of that account.
            welcome = await newcomer.get("/batches")
            assert welcome.status_code == 200 and "Welcome, Mia Member" in welcome.text
            assert (await newcomer.get("/api/v1/batches")).status_code == 200

        async with client(stack) as later:
            await log_in(later, "mia@invite.example", MEMBER_PASSWORD)
            page = (await later.get("/users")).text
            assert "Mia Member" in page and "Invite a user" not in page
            assert 'href="/keys"' not in page

        listed = await boss.get("/api/v1/users", headers=bearer(owner.api_key))
        assert listed.status_code == 200
        users = listed.json()["users"]
        assert [(u["email"], u["role"]) for u in users] == [
            (owner.login, "owner"),
            ("mia@invite.example", "member"),
        ]
        assert all("password" not in key for user in users for key in user)
        # The owner's own session may list them too.
        by_cookie = await boss.get("/api/v1/users")
        assert by_cookie.status_code == 200 and len(by_cookie.json()["users"]) == 2
        users_page = (await boss.get("/users")).text
        assert "Invite a user" in users_page and "Pending invitations" not in users_page


async def test_a_member_is_refused_credit_keys_and_users(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed:
        stack = mailed.stack
        owner = await stack.new_account("Roles Co")
        email = await invited_member(mailed, owner, "member@roles.example")
        owner_user = await stack.accounts.user(owner.login)
        assert owner_user is not None
        [key] = await stack.accounts.api_keys(owner.account.id)
        purchases_before = len(stack.billing.purchases)
        async with client(stack) as member:
            token = await log_in(member, email, MEMBER_PASSWORD)
            refused = [
                await member.post("/billing/buy", data={"units": "100", "csrf_token": token}),
                await member.get("/keys"),
                await member.post("/keys", data={"csrf_token": token}),
                await member.post(f"/keys/{key.id}/revoke", data={"csrf_token": token}),
                await member.post(
                    "/users/invite",
                    data={"email": "x@roles.example", "role": "owner", "csrf_token": token},
                ),
                await member.post(f"/users/{owner_user.id}/remove", data={"csrf_token": token}),
                await member.get("/api/v1/users"),
                await member.post(
                    "/api/v1/billing/purchases", json={"units": 5}, headers={"X-CSRF-Token": token}
                ),
            ]
            assert [answer.status_code for answer in refused] == [403] * len(refused), [
                (answer.request.url.path, answer.status_code) for answer in refused
            ]
            assert refused[-1].json()["error"]["code"] == "forbidden"
            # What a member may do still works.
            assert (await member.get("/batches")).status_code == 200
            billing = await member.get("/billing")
            assert billing.status_code == 200
            assert 'id="buy-form"' not in billing.text and "Only an owner" in billing.text

        assert len(stack.billing.purchases) == purchases_before
        assert [k.revoked_at for k in await stack.accounts.api_keys(owner.account.id)] == [None]
        assert len(await stack.accounts.users(owner.account.id)) == 2
        assert await stack.app.state.gateway.users.pending_invitations(owner.account.id) == []


async def test_a_used_or_expired_invitation_is_refused(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    # Invitations last 2 seconds here, so one can be watched expiring.
    async with mailed_stack(tmp_path, invitation_hours=2 / 3600) as mailed:
        stack = mailed.stack
        owner = await stack.new_account("Expiry Co")
        async with client(stack) as boss:
            token = await log_in(boss, owner.login)
            await invite(boss, token, "once@expiry.example")
            once = await mailed.link(1, "/invitations")
            async with client(stack) as first, client(stack) as second:
                assert (await accept(first, once)).status_code == 303
                again = await second.get(once)
                assert again.status_code == 410
                assert "expired or was already used" in again.text
                page = await second.get("/login")
                replay = await second.post(
                    once,
                    data={
                        "name": "Mallory",
                        "password": "mallory's password",
                        "confirm": "mallory's password",
                        "csrf_token": csrf_token_of(page.text),
                    },
                )
                assert replay.status_code == 410

            await invite(boss, token, "late@expiry.example")
            late = await mailed.link(2, "/invitations")

            async def expired() -> bool:
                async with client(stack) as anyone:
                    return (await anyone.get(late)).status_code == 410

            await until(expired, within=10, what="the invitation to expire")
            assert (await boss.get("/invitations/" + "x" * 43)).status_code == 410

        logins = [user.login for user in await stack.accounts.users(owner.account.id)]
        assert logins == [owner.login, "once@expiry.example"]
        # The token is stored only as its SHA-256.
        client_ = connect_mongo(stack.settings)
        try:
            stored = [
                doc async for doc in database(client_, stack.settings)["invitations"].find({})
            ]
        finally:
            await client_.close()
        assert len(stored) == 2
        assert all(once.rsplit("/", 1)[1] not in str(doc) for doc in stored)


async def test_a_forgotten_password_is_reset_once_through_the_mailbox(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed:
        stack = mailed.stack
        owner = await stack.new_account("Forgetful Co")
        async with client(stack) as old_a, client(stack) as old_b, client(stack) as anon:
            await log_in(old_a, owner.login)
            await log_in(old_b, owner.login)

            page = await anon.get("/login")
            assert 'href="/password-reset"' in page.text
            form = await anon.get("/password-reset")
            token = csrf_token_of(form.text)
            unknown = await anon.post(
                "/password-reset", data={"email": "nobody@forgetful.example", "csrf_token": token}
            )
            known = await anon.post(
                "/password-reset", data={"email": owner.login, "csrf_token": token}
            )
            # The same answer whether or not the address is a login.
            assert unknown.status_code == known.status_code == 200
            assert unknown.text.replace("nobody@forgetful.example", owner.login) == known.text

            [mail] = await mailed.mailbox.wait_for(1)
            assert mail["To"] == owner.login
            link = await mailed.link(1, "/password-reset")
            reset_page = await anon.get(link)
            assert reset_page.status_code == 200
            assert reset_page.headers["referrer-policy"] == "no-referrer"
            fields = {"password": "my brand new secret", "confirm": "my brand new secret"}
            short = await anon.post(
                link,
                data={"password": "short", "confirm": "short", "csrf_token": token},
            )
            assert short.status_code == 422
            done = await anon.post(link, data={**fields, "csrf_token": token})
            assert done.status_code == 303 and done.headers["location"] == "/login"

            # Every old session ended; the old password no longer opens anything.
            assert (await old_a.get("/api/v1/batches")).status_code == 401
            assert (await old_b.get("/batches")).status_code == 303
            assert await stack.accounts.authenticate(owner.login, PASSWORD) is None
            await log_in(old_a, owner.login, "my brand new secret")

            page = await anon.get("/login")
            again = await anon.post(
                link,
                data={
                    "password": "someone else's secret",
                    "confirm": "someone else's secret",
                    "csrf_token": csrf_token_of(page.text),
                },
            )
            assert again.status_code == 410
            assert (await anon.get(link)).status_code == 410
        # Nothing was mailed for the unknown address.
        assert len(mailed.mailbox.messages()) == 1


async def test_a_reset_link_expires_and_requests_are_throttled(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    overrides = {"password_reset_minutes": 2 / 60, "password_reset_limit": "3/minute"}
    async with mailed_stack(tmp_path, **overrides) as mailed, client(mailed.stack) as anon:
        owner = await mailed.stack.new_account("Hurried Co")
        token = csrf_token_of((await anon.get("/password-reset")).text)
        answers = [
            await anon.post("/password-reset", data={"email": owner.login, "csrf_token": token})
            for _ in range(4)
        ]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        # Another address from the same place is throttled too.
        other = await anon.post(
            "/password-reset", data={"email": "other@hurried.example", "csrf_token": token}
        )
        assert other.status_code == 429

        link = await mailed.link(1, "/password-reset")

        async def expired() -> bool:
            return (await anon.get(link)).status_code == 410

        await until(expired, within=10, what="the reset link to expire")
        late = await anon.post(
            link,
            data={"password": "too late now!", "confirm": "too late now!", "csrf_token": token},
        )
        assert late.status_code == 410
        assert await mailed.stack.accounts.authenticate(owner.login, PASSWORD) is not None


async def test_removing_a_user_logs_them_out_at_once(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed:
        stack = mailed.stack
        owner = await stack.new_account("Removal Co")
        email = await invited_member(mailed, owner, "leaver@removal.example")
        member = await stack.accounts.user(email)
        assert member is not None
        async with client(stack) as boss, client(stack) as leaver:
            await log_in(leaver, email, MEMBER_PASSWORD)
            assert (await leaver.get("/api/v1/batches")).status_code == 200
            token = await log_in(boss, owner.login)
            owner_user = await stack.accounts.user(owner.login)
            assert owner_user is not None
            # An owner cannot remove themself (the account keeps an owner).
            await boss.post(f"/users/{owner_user.id}/remove", data={"csrf_token": token})
            assert "You cannot remove yourself" in (await boss.get("/users")).text

            removed = await boss.post(f"/users/{member.id}/remove", data={"csrf_token": token})
            assert removed.status_code == 303
            assert (await leaver.get("/api/v1/batches")).status_code == 401
            assert (await leaver.get("/batches")).status_code == 303
            async with client(stack) as retry:
                page = await retry.get("/login")
                refused = await retry.post(
                    "/login",
                    data={
                        "email": email,
                        "password": MEMBER_PASSWORD,
                        "csrf_token": csrf_token_of(page.text),
                    },
                )
                assert refused.status_code == 401
            users_page = (await boss.get("/users")).text
            assert "is removed and logged out" in users_page
            table = users_page.split('<table id="users">')[1].split("</table>")[0]
            assert owner.login in table and email not in table
            # The address is free again.
            await invite(boss, token, email)


async def test_changing_a_password_ends_the_other_sessions(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed:
        stack = mailed.stack
        owner = await stack.new_account("Change Co")
        email = await invited_member(mailed, owner, "changer@change.example")
        async with client(stack) as here, client(stack) as elsewhere:
            token = await log_in(here, email, MEMBER_PASSWORD)
            await log_in(elsewhere, email, MEMBER_PASSWORD)
            new = "a freshly chosen passphrase"

            wrong = await here.post(
                "/users/password",
                data={
                    "current_password": "not it at all",
                    "new_password": new,
                    "confirm": new,
                    "csrf_token": token,
                },
            )
            assert wrong.status_code == 303
            assert "The current password is wrong" in (await here.get("/users")).text
            assert (await elsewhere.get("/api/v1/batches")).status_code == 200

            changed = await here.post(
                "/users/password",
                data={
                    "current_password": MEMBER_PASSWORD,
                    "new_password": new,
                    "confirm": new,
                    "csrf_token": token,
                },
            )
            assert changed.status_code == 303
            page = await here.get("/users")
            assert page.status_code == 200 and "Your password is changed" in page.text
            assert (await elsewhere.get("/api/v1/batches")).status_code == 401
            assert await stack.accounts.authenticate(email, MEMBER_PASSWORD) is None
            await log_in(elsewhere, email, new)


async def test_a_login_from_before_roles_is_its_accounts_owner(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    async with mailed_stack(tmp_path) as mailed, client(mailed.stack) as http:
        stack = mailed.stack
        mongo = connect_mongo(stack.settings)
        try:
            db = database(mongo, stack.settings)
            await db["accounts"].insert_one(
                {
                    "_id": "acc_0123456789abcdef01234567",
                    "name": "Legacy Co",
                    "email": "legacy@legacy.example",
                    "time_zone": "Australia/Sydney",
                    "created_at": datetime(2024, 1, 1, tzinfo=UTC),
                }
            )
            # The shape a user had when an account had one login.
            await db["users"].insert_one(
                {
                    "_id": "usr_0123456789abcdef01234567",
                    "login": "legacy@legacy.example",
                    "account_id": "acc_0123456789abcdef01234567",
                    "password_hash": hash_password(PASSWORD),
                }
            )
        finally:
            await mongo.close()
        token = await log_in(http, "legacy@legacy.example")
        assert (await http.get("/keys")).status_code == 200
        await invite(http, token, "new@legacy.example")
        await mailed.mailbox.wait_for(1)
        assert "Owner" in (await http.get("/users")).text
