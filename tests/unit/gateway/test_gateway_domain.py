"""The gateway's domain with plain values: who may do what, keys, sessions, links, lockout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lc_gateway.domain.accounts import (
    MEMBER,
    OWNER,
    Account,
    User,
    acts_as_owner,
    key_opens,
    new_account,
    new_api_key_record,
    new_user,
    removal_refusal,
    role_problem,
    session_user_fits,
)
from lc_gateway.domain.credentials import new_api_key
from lc_gateway.domain.idempotency import IN_PROGRESS, new_claim, stale
from lc_gateway.domain.lockout import address_key, login_key, retry_after
from lc_gateway.domain.sessions import (
    TOUCH_EVERY,
    SessionRecord,
    save_action,
    worth_looking_up,
)
from lc_gateway.domain.tokens import new_invitation, new_reset, token_hash, usable

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def user(role: str = OWNER, account_id: str = "acc_aaaaaa", **changes: object) -> User:
    made = new_user(
        account_id=account_id,
        email="Boss@Acme.test ",
        name=" Boss ",
        role=role,
        password_hash="h",
        now=T0,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_a_new_user_has_a_normalised_login_and_a_known_role() -> None:
    made = user(MEMBER)
    assert (made.login, made.name, made.role, made.created_at) == (
        "boss@acme.test",
        "Boss",
        MEMBER,
        T0,
    )
    assert made.id.startswith("usr_") and made.active and not made.is_owner
    with pytest.raises(ValueError):
        user("admin")
    assert role_problem(OWNER) is None and role_problem(MEMBER) is None
    assert role_problem("admin") == "The role is one of owner, member."


def test_a_new_account_is_trimmed_and_has_an_account_id() -> None:
    account = new_account(name=" Acme ", email=" ops@acme.test ", time_zone="UTC", now=T0)
    assert (account.name, account.email, account.created_at) == ("Acme", "ops@acme.test", T0)
    assert account.id.startswith("acc_")


def test_owners_and_api_keys_act_as_owners_members_do_not() -> None:
    assert acts_as_owner(user(OWNER))
    assert acts_as_owner(None)
    assert not acts_as_owner(user(MEMBER))


def test_a_key_opens_its_record_until_revoked() -> None:
    secret = new_api_key()
    record = new_api_key_record("acc_aaaaaa", secret, T0)
    assert record.key_hash != secret and secret.startswith(record.prefix)
    assert key_opens(record, secret)
    assert not key_opens(record, new_api_key())
    assert not key_opens(record, "not a key")
    assert not key_opens(None, secret)
    assert not key_opens(replace(record, revoked_at=T0), secret)


def test_an_owner_removes_others_of_the_account_only() -> None:
    owner = user(OWNER)
    member = user(MEMBER)
    assert removal_refusal(owner, member) is None
    assert removal_refusal(owner, owner) == "self"
    assert removal_refusal(owner, None) == "not_found"
    assert removal_refusal(owner, user(MEMBER, account_id="acc_bbbbbb")) == "not_found"
    assert removal_refusal(owner, replace(member, removed_at=T0)) == "not_found"


def test_a_session_holds_only_an_active_user_of_its_account() -> None:
    account = Account("acc_aaaaaa", "Acme", "ops@acme.test", "UTC", T0)
    assert session_user_fits(user(MEMBER), account)
    assert not session_user_fits(None, account)
    assert not session_user_fits(user(MEMBER), None)
    assert not session_user_fits(user(MEMBER, account_id="acc_bbbbbb"), account)
    assert not session_user_fits(user(MEMBER, removed_at=T0), account)


def session(data: dict[str, object], seen_at: datetime = T0) -> SessionRecord:
    return SessionRecord("t", "usr_1", dict(data), T0, seen_at)


def test_saving_a_session_ends_begins_writes_or_does_nothing() -> None:
    live = session({"uid": "usr_1", "csrf": "x"})
    assert save_action(live, {}, T0) == "end"
    assert save_action(None, {}, T0) == "end"
    assert save_action(None, {"csrf": "x"}, T0) == "begin"
    # A login (another user) gets a new id.
    assert save_action(live, {"uid": "usr_2", "csrf": "x"}, T0) == "begin"
    assert save_action(live, {"uid": "usr_1", "csrf": "y"}, T0) == "write"
    assert save_action(live, dict(live.data), T0 + TOUCH_EVERY - timedelta(seconds=1)) == "nothing"
    assert save_action(live, dict(live.data), T0 + TOUCH_EVERY) == "write"


def test_only_plausible_session_ids_are_looked_up() -> None:
    assert worth_looking_up("x" * 43)
    assert not worth_looking_up("")
    assert not worth_looking_up("x" * 129)


def test_a_claim_is_in_progress_for_its_lease_and_kept_for_its_ttl() -> None:
    claim = new_claim("acc_1", "k", None, T0, ttl=timedelta(hours=24), lease=timedelta(minutes=10))
    assert claim.state == IN_PROGRESS and claim.response is None
    assert (claim.expires_at, claim.lease_until) == (
        T0 + timedelta(hours=24),
        T0 + timedelta(minutes=10),
    )
    assert not stale(claim, T0 + timedelta(minutes=9))
    assert stale(claim, T0 + timedelta(minutes=10))


def test_links_are_stored_by_hash_and_usable_until_they_expire() -> None:
    invitation = new_invitation(
        token="tok",
        account_id="acc_1",
        email="new@acme.test",
        role=MEMBER,
        invited_by="usr_1",
        now=T0,
        ttl=timedelta(hours=72),
    )
    assert invitation.token_hash == token_hash("tok") and invitation.id.startswith("inv_")
    assert usable(invitation.expires_at, invitation.used_at, T0 + timedelta(hours=71))
    assert not usable(invitation.expires_at, invitation.used_at, T0 + timedelta(hours=72))
    reset = new_reset(
        token="tok", user_id="usr_1", account_id="acc_1", now=T0, ttl=timedelta(hours=1)
    )
    assert (reset.token_hash, reset.expires_at) == (token_hash("tok"), T0 + timedelta(hours=1))


def test_lockout_counts_logins_and_addresses_apart_and_waits_at_least_a_second() -> None:
    assert login_key("a@b.test") != address_key("a@b.test")
    assert retry_after(100.2, 40.0) == 61
    assert retry_after(100.0, 100.0) == 1
    assert retry_after(90.0, 100.0) == 1
