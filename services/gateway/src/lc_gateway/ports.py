"""The ports the gateway's use cases depend on; `lc_gateway.adapters` implements them
(MongoDB for accounts, sessions, tokens and idempotency keys; SMTP for mail) and
tests pass in-memory fakes. The records they carry are `lc_gateway.domain`'s."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from lc_gateway.domain.accounts import Account, ApiKeyRecord, User
from lc_gateway.domain.idempotency import KeyRecord, StoredResponse
from lc_gateway.domain.sessions import SessionRecord
from lc_gateway.domain.tokens import Invitation, PasswordReset


class AccountRepository(Protocol):
    """Storage of accounts, users and API keys."""

    async def insert_account(self, account: Account) -> None: ...
    async def delete_account(self, account_id: str) -> None: ...
    async def get_account(self, account_id: str) -> Account | None: ...
    async def insert_user(self, user: User) -> None:
        """Store a user; raise `LoginTaken` if the login exists."""
        ...

    async def user_by_login(self, login: str) -> User | None:
        """The active user with this login, or None."""
        ...

    async def user_by_id(self, user_id: str) -> User | None:
        """The user with this id, removed or not, or None."""
        ...

    async def users_of(self, account_id: str) -> list[User]:
        """The account's active users, oldest first."""
        ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...
    async def remove_user(self, user_id: str, when: datetime) -> bool:
        """Mark a user removed and free its login; False if it was not active."""
        ...

    async def insert_api_key(self, record: ApiKeyRecord) -> None: ...
    async def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...
    async def api_keys_of(self, account_id: str) -> list[ApiKeyRecord]: ...
    async def revoke_api_key(self, account_id: str, key_id: str, when: datetime) -> bool: ...


class SessionEnder(Protocol):
    """Ends every panel session of a user (they live in the session store)."""

    async def end_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """End the user's sessions but the one with id `keep`; how many ended."""
        ...


class TokenStore(Protocol):
    """Storage of invitations and resets by the hash of their token."""

    async def insert_invitation(self, invitation: Invitation) -> None: ...
    async def invitation(self, token_hash: str) -> Invitation | None: ...
    async def invitations_of(self, account_id: str) -> list[Invitation]:
        """The account's invitations not used or withdrawn yet, oldest first."""
        ...

    async def use_invitation(self, token_hash: str, when: datetime) -> bool:
        """Mark it used unless it was; True for the one caller that did."""
        ...

    async def withdraw_invitation(
        self, account_id: str, invitation_id: str, when: datetime
    ) -> bool: ...
    async def insert_reset(self, reset: PasswordReset) -> None: ...
    async def reset(self, token_hash: str) -> PasswordReset | None: ...
    async def use_reset(self, token_hash: str, when: datetime) -> bool:
        """Mark it used unless it was; True for the one caller that did."""
        ...


class SessionStore(Protocol):
    """Storage of sessions by id."""

    async def load(self, token: str) -> SessionRecord | None: ...
    async def insert(self, record: SessionRecord) -> None: ...
    async def save(self, token: str, data: dict[str, Any], seen_at: datetime) -> None: ...
    async def delete(self, token: str) -> None: ...
    async def delete_user_sessions(self, user_id: str, keep: str | None = None) -> int:
        """Delete the user's sessions except the one with id `keep`; how many went."""
        ...


class IdempotencyStore(Protocol):
    """Storage of keys, one record per (account, key)."""

    async def insert(self, record: KeyRecord) -> bool:
        """Store a new claim; False if the (account, key) exists."""
        ...

    async def get(self, account_id: str, key: str) -> KeyRecord | None: ...
    async def delete_stale(self, account_id: str, key: str, now: datetime) -> None:
        """Delete the record if it expired, or is a claim whose lease ran out."""
        ...

    async def complete(
        self, account_id: str, key: str, request_hash: str, response: StoredResponse
    ) -> None: ...
    async def release(self, account_id: str, key: str) -> None: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...
