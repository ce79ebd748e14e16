"""Accounts domain: key format and hashing, passwords, and the account use cases."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime

from lc_common.clock import ManualClock
from lc_gateway.accounts import AccountService
from lc_gateway.domain.accounts import (
    Account,
    ApiKeyRecord,
    LoginTaken,
    User,
    is_account_id,
    new_id,
    normalise_login,
)
from lc_gateway.domain.credentials import (
    hash_api_key,
    hash_password,
    key_prefix,
    looks_like_api_key,
    new_api_key,
    verify_password,
)


class MemoryRepository:
    """An in-memory `AccountRepository`."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}
        self.keys: dict[str, ApiKeyRecord] = {}

    async def insert_account(self, account: Account) -> None:
        self.accounts[account.id] = account

    async def delete_account(self, account_id: str) -> None:
        self.accounts.pop(account_id, None)

    async def get_account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    async def insert_user(self, user: User) -> None:
        if any(u.login == user.login for u in self.users.values()):
            raise LoginTaken(user.login)
        self.users[user.id] = user

    async def user_by_login(self, login: str) -> User | None:
        return next((u for u in self.users.values() if u.login == login and u.active), None)

    async def user_by_id(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    async def users_of(self, account_id: str) -> list[User]:
        return [u for u in self.users.values() if u.account_id == account_id and u.active]

    async def remove_user(self, user_id: str, when: datetime) -> bool:
        user = self.users[user_id]
        if not user.active:
            return False
        self.users[user_id] = replace(user, login=user_id, removed_at=when)
        return True

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.users[user_id] = replace(self.users[user_id], password_hash=password_hash)

    async def insert_api_key(self, record: ApiKeyRecord) -> None:
        self.keys[record.id] = record

    async def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        return next((k for k in self.keys.values() if k.key_hash == key_hash), None)

    async def api_keys_of(self, account_id: str) -> list[ApiKeyRecord]:
        mine = [k for k in self.keys.values() if k.account_id == account_id]
        return sorted(mine, key=lambda k: k.created_at, reverse=True)

    async def revoke_api_key(self, account_id: str, key_id: str, when: datetime) -> bool:
        key = self.keys.get(key_id)
        if key is None or key.account_id != account_id or key.revoked_at is not None:
            return False
        self.keys[key_id] = replace(key, revoked_at=when)
        return True


def test_an_api_key_has_the_live_prefix_and_256_random_bits() -> None:
    keys = {new_api_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert re.fullmatch(r"lc_live_[A-Za-z0-9_-]{43}", key)
        assert looks_like_api_key(key)


def test_the_stored_form_of_a_key_is_its_sha256() -> None:
    key = "lc_live_" + "a" * 43
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert hash_api_key(key) != hash_api_key(key[:-1] + "b")
    assert key_prefix(key) == "lc_live_aaaaaa"


def test_strings_that_are_not_keys_are_recognised() -> None:
    for text in ("", "lc_live_", "lc_test_" + "a" * 43, "lc_live_" + "a" * 10, "lc_live_a b"):
        assert not looks_like_api_key(text)


def test_ids_and_logins() -> None:
    assert re.fullmatch(r"acc_[0-9a-f]{24}", new_id("acc"))
    assert is_account_id(new_id("acc"))
    assert not is_account_id("acc_../x")
    assert not is_account_id("bat_0123abcd")
    assert normalise_login("  Jane@Example.COM ") == "jane@example.com"


def test_passwords_are_hashed_with_argon2() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "S3cret")
    assert not verify_password("not a hash", "s3cret")


async def test_create_account_is_idempotent_on_the_login_and_issues_new_keys() -> None:
    clock = ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    repo = MemoryRepository()
    service = AccountService(repo, clock)

    first = await service.create_account(name="Acme", email="Ops@Acme.test", password="pw1")
    second = await service.create_account(name="Other", email="ops@acme.test", password="pw2")

    assert first.created and not second.created
    assert second.account == first.account
    assert first.account.name == "Acme"
    assert first.account.time_zone == "Australia/Sydney"
    assert first.account.created_at == clock.now()
    assert first.api_key != second.api_key
    assert len(repo.accounts) == 1
    assert all(first.api_key not in (k.key_hash, k.prefix) for k in repo.keys.values())
    assert (await service.account_for_api_key(first.api_key)) == first.account
    assert (await service.account_for_api_key(second.api_key)) == first.account
    # The password is not changed by a repeated run.
    assert await service.authenticate("ops@acme.test", "pw1") is not None
    assert await service.authenticate("ops@acme.test", "pw2") is None


async def test_a_revoked_or_unknown_key_opens_nothing() -> None:
    service = AccountService(MemoryRepository())
    created = await service.create_account(name="A", email="a@a.test", password="pw")
    assert await service.account_for_api_key(new_api_key()) is None
    assert await service.account_for_api_key("garbage") is None
    [record] = await service.api_keys(created.account.id)
    other = await service.create_account(name="B", email="b@b.test", password="pw")
    assert not await service.revoke_api_key(other.account.id, record.id)
    assert await service.revoke_api_key(created.account.id, record.id)
    assert await service.account_for_api_key(created.api_key) is None


async def test_authentication_refuses_unknown_logins_and_wrong_passwords() -> None:
    service = AccountService(MemoryRepository())
    await service.create_account(name="A", email="a@a.test", password="pw")
    user = await service.authenticate(" A@A.test", "pw")
    assert user is not None and user.login == "a@a.test"
    assert await service.authenticate("a@a.test", "nope") is None
    assert await service.authenticate("nobody@a.test", "pw") is None


async def test_an_api_key_for_an_unknown_login_is_refused() -> None:
    service = AccountService(MemoryRepository())
    try:
        await service.issue_api_key_for_login("ghost@a.test")
    except LookupError as exc:
        assert "ghost@a.test" in str(exc)
    else:
        raise AssertionError("expected LookupError")
