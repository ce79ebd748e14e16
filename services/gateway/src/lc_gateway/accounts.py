"""The use cases on accounts: create them, log in, issue and check API keys, end sessions.

The records and their rules are in `domain/accounts.py` (roles, ids, which key
opens what) and `domain/credentials.py` (keys, password hashes); this module
calls them and the `AccountRepository` of `ports.py`.
"""

from __future__ import annotations

import asyncio

from lc_common.clock import Clock, SystemClock
from lc_gateway.domain.accounts import (
    DEFAULT_TIME_ZONE,
    OWNER,
    Account,
    ApiKeyRecord,
    CreatedAccount,
    IssuedKey,
    LoginTaken,
    User,
    is_account_id,
    key_opens,
    new_account,
    new_api_key_record,
    new_user,
    normalise_login,
    role_problem,
)
from lc_gateway.domain.credentials import (
    DUMMY_PASSWORD_HASH,
    hash_api_key,
    hash_password,
    looks_like_api_key,
    needs_rehash,
    new_api_key,
    verify_password,
)
from lc_gateway.metrics import SESSIONS_ENDED
from lc_gateway.ports import AccountRepository, SessionEnder

__all__ = ["AccountService"]


class AccountService:
    """Use cases on accounts: create, log in, issue and check API keys.

    At most `hash_slots` password hashes run at once (64 MiB of Argon2 each):
    parallel logins queue instead of exhausting memory.
    """

    def __init__(
        self,
        repository: AccountRepository,
        clock: Clock | None = None,
        *,
        sessions: SessionEnder | None = None,
        hash_slots: int = 2,
    ) -> None:
        self._repo = repository
        self._clock = clock or SystemClock()
        self._sessions = sessions
        self._hash_slots = asyncio.Semaphore(hash_slots)

    async def _hash(self, password: str) -> str:
        async with self._hash_slots:
            return await asyncio.to_thread(hash_password, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        async with self._hash_slots:
            return await asyncio.to_thread(verify_password, password_hash, password)

    async def password_matches(self, user: User, password: str) -> bool:
        """True when `password` is the user's (hashed within the bounded slots)."""
        return await self._verify(user.password_hash, password)

    async def add_user(
        self, *, account_id: str, email: str, name: str, role: str, password: str
    ) -> User:
        """Create a user of an existing account; raises `LoginTaken` if the login exists."""
        if role_problem(role) is not None:
            raise ValueError(f"unknown role {role!r}")
        now = self._clock.now()
        user = new_user(
            account_id=account_id,
            email=email,
            name=name,
            role=role,
            password_hash=await self._hash(password),
            now=now,
        )
        await self._repo.insert_user(user)
        return user

    async def set_password(self, user: User, password: str, *, keep_session: str | None) -> None:
        """Store a new password and end the user's sessions, except `keep_session` if given."""
        await self._repo.set_password_hash(user.id, await self._hash(password))
        await self._end_sessions(user.id, "password_changed", keep=keep_session)

    async def create_account(
        self, *, name: str, email: str, password: str, time_zone: str = DEFAULT_TIME_ZONE
    ) -> CreatedAccount:
        """Create an account with one user whose login is `email`, and issue an API key.

        Idempotent on the login: if it exists, its account is returned (unchanged,
        password included) with a new API key.
        """
        login = normalise_login(email)
        if not login or not password:
            raise ValueError("an email and a password are required")
        existing = await self._repo.user_by_login(login)
        created = False
        if existing is None:
            account = new_account(
                name=name, email=email, time_zone=time_zone, now=self._clock.now()
            )
            user = new_user(
                account_id=account.id,
                email=login,
                name=account.name,
                role=OWNER,
                password_hash=await self._hash(password),
                now=account.created_at,
            )
            await self._repo.insert_account(account)
            try:
                await self._repo.insert_user(user)
                created = True
            except LoginTaken:
                # A concurrent run won: drop our account and use theirs.
                await self._repo.delete_account(account.id)
                existing = await self._repo.user_by_login(login)
                if existing is None:
                    raise
        account_id = existing.account_id if existing else account.id
        stored = await self._repo.get_account(account_id)
        if stored is None:
            raise LookupError(f"user {login} points at a missing account {account_id}")
        issued = await self.issue_api_key(stored.id)
        return CreatedAccount(account=stored, login=login, api_key=issued.secret, created=created)

    async def issue_api_key(self, account_id: str) -> IssuedKey:
        """A new API key for the account; only its hash is stored."""
        secret = new_api_key()
        record = new_api_key_record(account_id, secret, self._clock.now())
        await self._repo.insert_api_key(record)
        return IssuedKey(record=record, secret=secret)

    async def issue_api_key_for_login(self, email: str) -> tuple[User, IssuedKey]:
        """A new API key for the account of the user with this login."""
        user = await self._repo.user_by_login(normalise_login(email))
        if user is None:
            raise LookupError(f"no user with login {normalise_login(email)}")
        return user, await self.issue_api_key(user.account_id)

    async def account_for_api_key(self, key: str) -> Account | None:
        """The account a valid, unrevoked key belongs to, or None."""
        if not looks_like_api_key(key):
            return None
        record = await self._repo.api_key_by_hash(hash_api_key(key))
        if record is None or not key_opens(record, key):
            return None
        return await self._repo.get_account(record.account_id)

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user whose login and password match, or None (in about the same time)."""
        user = await self._repo.user_by_login(normalise_login(email))
        if user is None:
            await self._verify(DUMMY_PASSWORD_HASH, password)
            return None
        if not await self._verify(user.password_hash, password):
            return None
        if needs_rehash(user.password_hash):
            await self._repo.set_password_hash(user.id, await self._hash(password))
        return user

    async def change_password(self, email: str, password: str) -> User:
        """Set a user's new password and end every session the user had."""
        user = await self._user(email)
        if not password:
            raise ValueError("a password is required")
        await self.set_password(user, password, keep_session=None)
        return user

    async def remove_user(self, email: str) -> User:
        """Remove a user (the account stays) and end every session the user had."""
        user = await self._user(email)
        await self.remove(user)
        return user

    async def remove(self, user: User) -> bool:
        """Remove `user` and end its sessions at once; False if it was removed already."""
        removed = await self._repo.remove_user(user.id, self._clock.now())
        await self._end_sessions(user.id, "user_removed")
        return removed

    async def user(self, email: str) -> User | None:
        """The active user with this login, or None."""
        return await self._repo.user_by_login(normalise_login(email))

    async def user_by_id(self, user_id: str) -> User | None:
        """The active user with this id, or None (removed users are None too)."""
        user = await self._repo.user_by_id(user_id)
        return user if user is not None and user.active else None

    async def users(self, account_id: str) -> list[User]:
        """The account's active users, oldest first."""
        return await self._repo.users_of(account_id)

    async def _user(self, email: str) -> User:
        user = await self._repo.user_by_login(normalise_login(email))
        if user is None:
            raise LookupError(f"no user with login {normalise_login(email)}")
        return user

    async def _end_sessions(self, user_id: str, reason: str, keep: str | None = None) -> None:
        if self._sessions is not None:
            ended = await self._sessions.end_user_sessions(user_id, keep=keep)
            SESSIONS_ENDED.labels(reason).inc(ended)

    async def get_account(self, account_id: str) -> Account | None:
        """The account with this id, or None."""
        if not is_account_id(account_id):
            return None
        return await self._repo.get_account(account_id)

    async def api_keys(self, account_id: str) -> list[ApiKeyRecord]:
        """The account's keys (hashes and prefixes only), newest first."""
        return await self._repo.api_keys_of(account_id)

    async def revoke_api_key(self, account_id: str, key_id: str) -> bool:
        """Revoke one of the account's keys; False if it has no such key."""
        return await self._repo.revoke_api_key(account_id, key_id, self._clock.now())
