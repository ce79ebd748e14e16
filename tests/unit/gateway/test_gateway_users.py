"""Users of an account: link tokens, expiry, single use, roles and reset requests (no I/O)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from tests.unit.gateway.test_gateway_accounts import MemoryRepository

from lc_common.clock import ManualClock
from lc_gateway.accounts import AccountService
from lc_gateway.domain.accounts import MEMBER, OWNER, User
from lc_gateway.domain.tokens import (
    Invitation,
    PasswordReset,
    email_problem,
    looks_like_token,
    new_token,
    password_problem,
    token_hash,
    usable,
)
from lc_gateway.errors import FieldInvalid, Forbidden, LinkUnusable, NotFound
from lc_gateway.mails import BackgroundMail
from lc_gateway.users import LinkSettings, UserService

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


class MemoryTokens:
    """An in-memory `TokenStore`."""

    def __init__(self) -> None:
        self.invitations: dict[str, Invitation] = {}
        self.resets: dict[str, PasswordReset] = {}

    async def insert_invitation(self, invitation: Invitation) -> None:
        self.invitations[invitation.token_hash] = invitation

    async def invitation(self, token_hash: str) -> Invitation | None:
        return self.invitations.get(token_hash)

    async def invitations_of(self, account_id: str) -> list[Invitation]:
        return [
            i for i in self.invitations.values() if i.account_id == account_id and not i.used_at
        ]

    async def use_invitation(self, token_hash: str, when: datetime) -> bool:
        found = self.invitations.get(token_hash)
        if found is None or found.used_at is not None:
            return False
        self.invitations[token_hash] = replace(found, used_at=when)
        return True

    async def withdraw_invitation(
        self, account_id: str, invitation_id: str, when: datetime
    ) -> bool:
        for key, found in self.invitations.items():
            if found.id == invitation_id and found.account_id == account_id and not found.used_at:
                self.invitations[key] = replace(found, used_at=when)
                return True
        return False

    async def insert_reset(self, reset: PasswordReset) -> None:
        self.resets[reset.token_hash] = reset

    async def reset(self, token_hash: str) -> PasswordReset | None:
        return self.resets.get(token_hash)

    async def use_reset(self, token_hash: str, when: datetime) -> bool:
        found = self.resets.get(token_hash)
        if found is None or found.used_at is not None:
            return False
        self.resets[token_hash] = replace(found, used_at=when)
        return True


class Outbox:
    """A `Mailer` that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class EndedSessions:
    def __init__(self) -> None:
        self.ended: list[tuple[str, str | None]] = []

    async def end_user_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        self.ended.append((user_id, keep))
        return 1


class World:
    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.repo, self.tokens, self.outbox = MemoryRepository(), MemoryTokens(), Outbox()
        self.sessions = EndedSessions()
        self.mail = BackgroundMail(self.outbox)
        self.accounts = AccountService(self.repo, self.clock, sessions=self.sessions)
        links = LinkSettings(
            public_url="https://panel.example/",
            sender="noreply@example.com",
            invitation_ttl=timedelta(hours=72),
            reset_ttl=timedelta(hours=1),
        )
        self.users = UserService(self.accounts, self.tokens, self.mail, self.clock, links)

    async def owner(self) -> User:
        created = await self.accounts.create_account(
            name="Acme", email="boss@acme.test", password=PASSWORD
        )
        user = await self.accounts.user(created.login)
        assert user is not None
        return user

    async def link_in_last_mail(self, path: str) -> str:
        await self.mail.drain()
        body = self.outbox.sent[-1].get_content()
        match = re.search(rf"https://panel\.example{path}/([A-Za-z0-9_-]+)", body)
        assert match, body
        return match.group(1)


def test_tokens_are_random_and_only_their_sha256_is_stored() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(looks_like_token(token) for token in tokens)
    token = tokens.pop()
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    for text in ("", "short", token + "x", token[:-1] + "/", "../" + token[3:]):
        assert not looks_like_token(text)


def test_a_token_is_usable_until_it_expires_or_is_used() -> None:
    expires = T0 + timedelta(hours=1)
    assert usable(expires, None, T0)
    assert usable(expires, None, expires - timedelta(microseconds=1))
    assert not usable(expires, None, expires)
    assert not usable(expires, T0, T0)


def test_passwords_and_emails_are_checked() -> None:
    assert password_problem("x" * 9) is not None
    assert password_problem("x" * 10) is None
    assert password_problem("x" * 257) is not None
    assert email_problem("jane@example.com") is None
    for bad in ("", "jane", "jane@", "@x.com", "a b@x.com", "a@b@c.com"):
        assert email_problem(bad) is not None


async def test_the_first_login_of_an_account_is_its_owner() -> None:
    world = World()
    owner = await world.owner()
    assert owner.role == OWNER and owner.is_owner
    assert owner.name == "Acme" and owner.created_at == T0


async def test_an_invitation_is_mailed_accepted_once_and_makes_a_member() -> None:
    world = World()
    owner = await world.owner()
    invitation = await world.users.invite(owner, " Jane@Acme.test ", MEMBER)
    assert invitation.email == "jane@acme.test"
    assert invitation.expires_at == T0 + timedelta(hours=72)
    token = await world.link_in_last_mail("/invitations")
    assert world.outbox.sent[-1]["To"] == "jane@acme.test"
    assert token not in str(world.tokens.invitations)
    assert [i.id for i in await world.users.pending_invitations(owner.account_id)] == [
        invitation.id
    ]

    with pytest.raises(FieldInvalid):
        await world.users.accept(token, "Jane", "short")
    member = await world.users.accept(token, "Jane", PASSWORD)
    assert (member.role, member.account_id, member.login) == (
        MEMBER,
        owner.account_id,
        "jane@acme.test",
    )
    assert await world.accounts.authenticate("jane@acme.test", PASSWORD) == member
    with pytest.raises(LinkUnusable):
        await world.users.accept(token, "Mallory", PASSWORD)
    assert await world.users.pending_invitations(owner.account_id) == []


async def test_an_expired_or_unknown_invitation_is_refused() -> None:
    world = World()
    owner = await world.owner()
    await world.users.invite(owner, "late@acme.test", MEMBER)
    token = await world.link_in_last_mail("/invitations")
    world.clock.advance(timedelta(hours=72))
    with pytest.raises(LinkUnusable):
        await world.users.open_invitation(token)
    with pytest.raises(LinkUnusable):
        await world.users.accept(token, "Late", PASSWORD)
    with pytest.raises(LinkUnusable):
        await world.users.open_invitation(new_token())
    with pytest.raises(LinkUnusable):
        await world.users.open_invitation("not-a-token")
    assert await world.accounts.user("late@acme.test") is None


async def test_members_cannot_invite_or_remove_and_logins_stay_unique() -> None:
    world = World()
    owner = await world.owner()
    member = await world.accounts.add_user(
        account_id=owner.account_id, email="m@acme.test", name="M", role=MEMBER, password=PASSWORD
    )
    with pytest.raises(Forbidden):
        await world.users.invite(member, "x@acme.test", MEMBER)
    with pytest.raises(Forbidden):
        await world.users.remove(member, owner.id)
    with pytest.raises(FieldInvalid):
        await world.users.invite(owner, "m@acme.test", MEMBER)
    with pytest.raises(FieldInvalid):
        await world.users.invite(owner, "x@acme.test", "admin")
    with pytest.raises(FieldInvalid):
        await world.users.remove(owner, owner.id)


async def test_removing_a_user_ends_its_sessions_and_frees_the_login() -> None:
    world = World()
    owner = await world.owner()
    other = await world.accounts.create_account(name="Other", email="o@o.test", password=PASSWORD)
    member = await world.accounts.add_user(
        account_id=owner.account_id, email="m@acme.test", name="M", role=MEMBER, password=PASSWORD
    )
    foreign = await world.accounts.user(other.login)
    assert foreign is not None
    with pytest.raises(NotFound):
        await world.users.remove(owner, foreign.id)
    await world.users.remove(owner, member.id)
    assert (member.id, None) in world.sessions.ended
    assert await world.accounts.user_by_id(member.id) is None
    assert await world.accounts.authenticate("m@acme.test", PASSWORD) is None
    assert world.repo.users[member.id].removed_at == T0
    # The address can be invited again.
    await world.users.invite(owner, "m@acme.test", MEMBER)


async def test_a_password_change_needs_the_current_one_and_keeps_this_session() -> None:
    world = World()
    owner = await world.owner()
    assert not await world.users.change_password(
        owner, "wrong", "a new long password", keep_session="s1"
    )
    assert world.sessions.ended == []
    assert await world.users.change_password(
        owner, PASSWORD, "a new long password", keep_session="s1"
    )
    assert world.sessions.ended == [(owner.id, "s1")]
    assert await world.accounts.authenticate(owner.login, "a new long password") is not None


async def test_a_reset_is_mailed_only_to_a_login_and_works_once_within_its_hour() -> None:
    world = World()
    owner = await world.owner()
    await world.users.request_reset("nobody@acme.test")
    await world.mail.drain()
    assert world.outbox.sent == [] and world.tokens.resets == {}

    await world.users.request_reset("BOSS@acme.test")
    token = await world.link_in_last_mail("/password-reset")
    assert world.outbox.sent[-1]["To"] == owner.login
    await world.users.complete_reset(token, "the new password")
    assert world.sessions.ended == [(owner.id, None)]
    assert await world.accounts.authenticate(owner.login, "the new password") is not None
    with pytest.raises(LinkUnusable):
        await world.users.complete_reset(token, "yet another password")

    await world.users.request_reset(owner.login)
    late = await world.link_in_last_mail("/password-reset")
    world.clock.advance(timedelta(hours=1))
    with pytest.raises(LinkUnusable):
        await world.users.open_reset(late)
    with pytest.raises(LinkUnusable):
        await world.users.complete_reset(late, "yet another password")
