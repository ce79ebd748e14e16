"""Every Kafka client reaches the broker as the settings say: plaintext, TLS, SASL over TLS."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from lc_common.kafka import kafka_client_options
from lc_common.settings import ServiceSettings

STRONG = "q7Vt2mXc9LpR4wZa8NbK3yHd6FgJ1sUe"
CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def test_plaintext_by_default_outside_production() -> None:
    options = kafka_client_options(ServiceSettings(kafka_bootstrap_servers="k:9092"))
    assert options == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
        "metadata_max_age_ms": 30_000,
    }


def test_ssl_verifies_the_broker_against_the_ca_file() -> None:
    settings = ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=CA)
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0
    assert "sasl_mechanism" not in options


def test_sasl_ssl_carries_scram_credentials_and_a_context() -> None:
    settings = ServiceSettings(
        environment="production",
        internal_token=SecretStr(STRONG),
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="ingest",
        kafka_sasl_password=SecretStr("s3cret"),
        kafka_ssl_cafile=CA,
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "ingest"
    assert options["sasl_plain_password"] == "s3cret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_sasl_plaintext_has_no_ssl_context() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="u",
        kafka_sasl_password=SecretStr("p"),
    )
    options = kafka_client_options(settings)
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert "ssl_context" not in options


def test_the_password_is_read_from_the_environment_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LC_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("LC_KAFKA_SASL_USERNAME", "billing")
    monkeypatch.setenv("LC_KAFKA_SASL_PASSWORD", "hunter2")
    settings = ServiceSettings()
    assert "hunter2" not in repr(settings)
    assert kafka_client_options(settings)["sasl_plain_password"] == "hunter2"


def test_production_refuses_plaintext() -> None:
    with pytest.raises(ValidationError, match="PLAINTEXT"):
        ServiceSettings(environment="production", internal_token=SecretStr(STRONG))


@pytest.mark.parametrize("missing", ["kafka_sasl_username", "kafka_sasl_password"])
def test_sasl_without_credentials_is_refused(missing: str) -> None:
    given: dict[str, object] = {
        "kafka_sasl_username": "u",
        "kafka_sasl_password": SecretStr("p"),
    }
    del given[missing]
    with pytest.raises(ValidationError, match="LC_KAFKA_SASL_USERNAME"):
        ServiceSettings(kafka_security_protocol="SASL_SSL", **given)  # type: ignore[arg-type]


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(kafka_security_protocol="SASL_SSLX")


def test_a_service_without_internal_calls_may_leave_the_token_unset() -> None:
    class Quiet(ServiceSettings):
        uses_internal_token = False

    secure = {
        "environment": "production",
        "kafka_security_protocol": "SSL",
    }
    Quiet(**secure)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="LC_INTERNAL_TOKEN"):
        ServiceSettings(**secure)  # type: ignore[arg-type]
