"""The classifier's Faust app reaches the broker with the same security as the other clients."""

from __future__ import annotations

import faust
from faust.types.auth import AuthProtocol, SASLMechanism
from pydantic import SecretStr

from lc_classifier.broker_auth import broker_credentials
from lc_classifier.config import ClassifierSettings


def test_plaintext_has_no_credentials() -> None:
    assert broker_credentials(ClassifierSettings()) is None


def test_sasl_ssl_becomes_scram_credentials_over_tls() -> None:
    settings = ClassifierSettings(
        environment="production",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="classifier",
        kafka_sasl_password=SecretStr("pw"),
    )
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol is AuthProtocol.SASL_SSL
    assert credentials.mechanism is SASLMechanism.SCRAM_SHA_512
    assert (credentials.username, credentials.password) == ("classifier", "pw")
    assert credentials.ssl_context is not None


def test_ssl_becomes_ssl_credentials() -> None:
    credentials = broker_credentials(ClassifierSettings(kafka_security_protocol="SSL"))
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol is AuthProtocol.SSL
