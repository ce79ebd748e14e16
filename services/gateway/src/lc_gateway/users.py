"""Users of an account: invitations, removal, password changes and forgotten passwords.

Owners invite people by email; the mail holds `/invitations/<token>`, valid for
`invitation_hours` and once. A forgotten password is reset through
`/password-reset/<token>`, valid for `password_reset_minutes` and once; the
request answers alike whether the address is a user's or not. Changing a
password ends the user's other sessions, a reset ends all of them, and a
removed user's sessions end at once. The rules (who may, which link is
usable, which password is acceptable) are in `domain/`; this module calls them,
the `TokenStore` of `ports.py` and the mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from lc_common.clock import Clock
from lc_gateway.accounts import AccountService
from lc_gateway.domain.accounts import (
    LoginTaken,
    User,
    acts_as_owner,
    normalise_login,
    removal_refusal,
    role_problem,
)
from lc_gateway.domain.tokens import (
    Invitation,
    PasswordReset,
    email_problem,
    looks_like_token,
    name_problem,
    new_invitation,
    new_reset,
    new_token,
    password_problem,
    token_hash,
    usable,
)
from lc_gateway.errors import FieldInvalid, Forbidden, LinkUnusable, NotFound
from lc_gateway.mails import BackgroundMail, invitation_mail, reset_mail
from lc_gateway.metrics import INVITATIONS, PASSWORD_RESETS
from lc_gateway.ports import TokenStore

log = structlog.get_logger(__name__)

INVITATION_PATH = "/invitations"
RESET_PATH = "/password-reset"


@dataclass(frozen=True)
class LinkSettings:
    """Where links point, who mails come from, and how long links last."""

    public_url: str
    sender: str
    invitation_ttl: timedelta
    reset_ttl: timedelta


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise FieldInvalid(problem)


def _require_owner(user: User) -> None:
    if not acts_as_owner(user):
        raise Forbidden("Only an owner of the account can manage its users.")


class UserService:
    """The use cases on users beyond logging in (which `AccountService` keeps)."""

    def __init__(
        self,
        accounts: AccountService,
        store: TokenStore,
        mail: BackgroundMail,
        clock: Clock,
        links: LinkSettings,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._mail = mail
        self._clock = clock
        self._links = links

    def _link(self, path: str, token: str) -> str:
        return f"{self._links.public_url.rstrip('/')}{path}/{token}"

    async def invite(self, owner: User, email: str, role: str) -> Invitation:
        """Invite `email` into the owner's account with `role` and mail the link.

        Raises `Forbidden` for a member, `FieldInvalid` for a bad address or role
        or an address that already has a login.
        """
        _require_owner(owner)
        login = normalise_login(email)
        _refuse(email_problem(login))
        _refuse(role_problem(role))
        if await self._accounts.user(login) is not None:
            raise FieldInvalid(f"{login} already has a login.")
        account = await self._accounts.get_account(owner.account_id)
        if account is None:
            raise NotFound("The account no longer exists.")
        token, now = new_token(), self._clock.now()
        invitation = new_invitation(
            token=token,
            account_id=account.id,
            email=login,
            role=role,
            invited_by=owner.id,
            now=now,
            ttl=self._links.invitation_ttl,
        )
        await self._store.insert_invitation(invitation)
        message = invitation_mail(
            to=login,
            account_name=account.name,
            invited_by=owner.name or owner.login,
            role=role,
            link=self._link(INVITATION_PATH, token),
            hours=self._links.invitation_ttl.total_seconds() / 3600,
            sender=self._links.sender,
        )
        self._mail.send("invitation", message, account_id=account.id, invitation_id=invitation.id)
        INVITATIONS.labels("sent").inc()
        log.info("invitation_sent", invitation_id=invitation.id, role=role, user_id=owner.id)
        return invitation

    async def pending_invitations(self, account_id: str) -> list[Invitation]:
        """The account's invitations that can still be accepted, oldest first."""
        now = self._clock.now()
        return [
            invitation
            for invitation in await self._store.invitations_of(account_id)
            if usable(invitation.expires_at, invitation.used_at, now)
        ]

    async def withdraw(self, owner: User, invitation_id: str) -> None:
        """Make a pending invitation of the owner's account unusable (404 if none)."""
        _require_owner(owner)
        when = self._clock.now()
        if not await self._store.withdraw_invitation(owner.account_id, invitation_id, when):
            raise NotFound("There is no such pending invitation in this account.")
        log.info("invitation_withdrawn", invitation_id=invitation_id, user_id=owner.id)

    async def open_invitation(self, token: str) -> Invitation:
        """The invitation a link names while it is usable; `LinkUnusable` otherwise."""
        invitation = None
        if looks_like_token(token):
            invitation = await self._store.invitation(token_hash(token))
        now = self._clock.now()
        if invitation is None or not usable(invitation.expires_at, invitation.used_at, now):
            INVITATIONS.labels("refused").inc()
            raise LinkUnusable("This invitation link has expired or was already used.")
        return invitation

    async def accept(self, token: str, name: str, password: str) -> User:
        """Create the invited user with this name and password; the link is used up.

        `LinkUnusable` if the link cannot be used (any more), `FieldInvalid` for a
        refused name or password (the link stays usable) or a login taken meanwhile.
        """
        invitation = await self.open_invitation(token)
        _refuse(name_problem(name))
        _refuse(password_problem(password))
        if await self._accounts.user(invitation.email) is not None:
            raise FieldInvalid(f"{invitation.email} already has a login.")
        # Claimed before the user is created: of two submissions exactly one wins.
        if not await self._store.use_invitation(invitation.token_hash, self._clock.now()):
            INVITATIONS.labels("refused").inc()
            raise LinkUnusable("This invitation link has expired or was already used.")
        try:
            user = await self._accounts.add_user(
                account_id=invitation.account_id,
                email=invitation.email,
                name=name,
                role=invitation.role,
                password=password,
            )
        except LoginTaken as exc:
            raise FieldInvalid(f"{invitation.email} already has a login.") from exc
        INVITATIONS.labels("accepted").inc()
        log.info(
            "invitation_accepted",
            invitation_id=invitation.id,
            account_id=user.account_id,
            user_id=user.id,
            role=user.role,
        )
        return user

    async def remove(self, owner: User, user_id: str) -> User:
        """Remove a user of the owner's account; its sessions end at once.

        A user of another account answers `NotFound`, like a missing one; an
        owner cannot remove themself (`domain.accounts.removal_refusal`).
        """
        _require_owner(owner)
        target = await self._accounts.user_by_id(user_id)
        refusal = removal_refusal(owner, target)
        if refusal == "not_found" or target is None:
            raise NotFound("There is no such user in this account.")
        if refusal == "self":
            raise FieldInvalid("You cannot remove yourself.")
        await self._accounts.remove(target)
        log.info("user_removed", removed_user_id=target.id, user_id=owner.id)
        return target

    async def change_password(
        self, user: User, current: str, new: str, *, keep_session: str | None
    ) -> bool:
        """Set `new` if `current` is the user's password; its other sessions end.

        False when `current` is wrong (the caller counts it like a failed login);
        `FieldInvalid` when `new` is refused.
        """
        _refuse(password_problem(new))
        if not await self._accounts.password_matches(user, current):
            return False
        await self._accounts.set_password(user, new, keep_session=keep_session)
        log.info("password_changed", user_id=user.id, account_id=user.account_id)
        return True

    async def request_reset(self, email: str) -> None:
        """Mail a reset link if `email` is a user's login; nothing visible otherwise."""
        PASSWORD_RESETS.labels("requested").inc()
        user = await self._accounts.user(email)
        if user is None:
            log.info("password_reset_unknown_login")
            return
        token, now = new_token(), self._clock.now()
        reset = new_reset(
            token=token,
            user_id=user.id,
            account_id=user.account_id,
            now=now,
            ttl=self._links.reset_ttl,
        )
        await self._store.insert_reset(reset)
        message = reset_mail(
            to=user.login,
            link=self._link(RESET_PATH, token),
            minutes=self._links.reset_ttl.total_seconds() / 60,
            sender=self._links.sender,
        )
        self._mail.send("password_reset", message, account_id=user.account_id, user_id=user.id)
        PASSWORD_RESETS.labels("mailed").inc()
        log.info("password_reset_mailed", account_id=user.account_id, user_id=user.id)

    async def open_reset(self, token: str) -> PasswordReset:
        """The reset a link names while it is usable; `LinkUnusable` otherwise."""
        reset = None
        if looks_like_token(token):
            reset = await self._store.reset(token_hash(token))
        if reset is None or not usable(reset.expires_at, reset.used_at, self._clock.now()):
            PASSWORD_RESETS.labels("refused").inc()
            raise LinkUnusable("This password reset link has expired or was already used.")
        return reset

    async def complete_reset(self, token: str, password: str) -> User:
        """Set the user's new password and end all its sessions; the link is used up."""
        reset = await self.open_reset(token)
        _refuse(password_problem(password))
        user = await self._accounts.user_by_id(reset.user_id)
        if user is None or not await self._store.use_reset(reset.token_hash, self._clock.now()):
            PASSWORD_RESETS.labels("refused").inc()
            raise LinkUnusable("This password reset link has expired or was already used.")
        await self._accounts.set_password(user, password, keep_session=None)
        PASSWORD_RESETS.labels("completed").inc()
        log.info("password_reset_completed", account_id=user.account_id, user_id=user.id)
        return user
