"""Production refuses every weak shared secret, not only the literal development value."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from lc_common.settings import (
    DEV_SECRET,
    MIN_SECRET_LENGTH,
    ServiceSettings,
    weak_secret_problem,
)

STRONG = "q7Vt2mXc9LpR4wZa8NbK3yHd6FgJ1sUe"
SECURE_KAFKA = {"kafka_security_protocol": "SSL"}


class WithWebhook(ServiceSettings):
    """A service with a secret of its own, as billing's webhook secret."""

    owner: ClassVar[str] = "test"
    payment_webhook_secret: SecretStr = SecretStr(DEV_SECRET)
    smtp_password: SecretStr | None = None


@pytest.mark.parametrize(
    "weak",
    [
        DEV_SECRET,
        f"{DEV_SECRET}-0123456789abcdef",  # the development value with a suffix
        "",
        "short-secret",
        STRONG[: MIN_SECRET_LENGTH - 1],
        "s" * 40,
        "ab" * 20,
        "0123456780123456780123456780123456",  # nine different characters
    ],
)
def test_a_weak_secret_has_a_problem(weak: str) -> None:
    problem = weak_secret_problem(weak)
    assert problem is not None
    assert weak == "" or weak not in problem


@pytest.mark.parametrize("strong", [STRONG, "0123456789" * 4, "correct horse battery staple 2024"])
def test_a_strong_secret_has_none(strong: str) -> None:
    assert weak_secret_problem(strong) is None


@pytest.mark.parametrize("weak", [DEV_SECRET, "short-secret", "s" * 40])
def test_production_refuses_a_weak_internal_token(weak: str) -> None:
    with pytest.raises(ValidationError, match="LC_INTERNAL_TOKEN") as refused:
        ServiceSettings(environment="production", internal_token=SecretStr(weak), **SECURE_KAFKA)  # type: ignore[arg-type]
    assert weak not in str(refused.value) or weak == DEV_SECRET


def test_production_refuses_a_service_secret_left_weak() -> None:
    with pytest.raises(ValidationError, match="LC_PAYMENT_WEBHOOK_SECRET"):
        WithWebhook(
            environment="production",
            internal_token=SecretStr(STRONG),
            payment_webhook_secret=SecretStr("x" * 64),
            **SECURE_KAFKA,  # type: ignore[arg-type]
        )


def test_production_takes_strong_secrets_and_ignores_peer_credentials() -> None:
    settings = WithWebhook(
        environment="production",
        internal_token=SecretStr(STRONG),
        payment_webhook_secret=SecretStr(STRONG[::-1]),
        smtp_password=SecretStr("pw"),
        **SECURE_KAFKA,  # type: ignore[arg-type]
    )
    assert WithWebhook.shared_secret_names() == ["internal_token", "payment_webhook_secret"]
    assert settings.smtp_password is not None


def test_outside_production_the_development_value_is_fine() -> None:
    assert ServiceSettings().internal_token.get_secret_value() == DEV_SECRET


def test_a_service_without_internal_calls_is_not_asked_for_a_strong_token() -> None:
    class Quiet(ServiceSettings):
        uses_internal_token: ClassVar[bool] = False

    Quiet(environment="production", internal_token=SecretStr("t"), **SECURE_KAFKA)  # type: ignore[arg-type]
