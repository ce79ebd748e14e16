"""Settings read from the environment, one subclass per service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"
MIN_SECRET_LENGTH = 32
"""A production secret is at least this long (a random token of 32 characters or more)."""
MIN_SECRET_DISTINCT = 10
"""...and has at least this many different characters: `"s" * 40` or `"ab" * 20` is no secret."""

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class BodyLimitSettings(BaseSettings):
    """The caps on request bodies that every service's app applies (lc_common.limits).

    Read from the same `LC_*` variables as the service's own settings, so ingest's
    `LC_MAX_UPLOAD_BYTES` is both the cap it streams uploads under and the cap its
    upload routes are given here.
    """

    model_config = SettingsConfigDict(env_prefix="LC_", extra="ignore")

    max_body_bytes: int = Field(64 * 1024, ge=1)
    """Every body that is neither an upload nor an internal call (JSON, forms, webhooks)."""
    max_internal_body_bytes: int = Field(1024 * 1024, ge=1)
    """`/internal/` calls between services: the largest, 1000 leads of two 128-character
    ids each (reservations, lead states), is under 300 KiB."""
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1)
    """The CSV file of an upload route (ingest's own cap has the same name and default)."""


class ServiceSettings(BaseSettings):
    """What every service needs: where the broker and store are, how to log, where to listen.

    Each service extends this class with its own fields; all are read from `LC_*`
    environment variables, except the two peer addresses, which also answer to
    the conventional `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI`.
    """

    model_config = SettingsConfigDict(env_prefix="LC_", extra="ignore")

    owner: ClassVar[str] = ""
    """The service whose data this is; each service owns its own database."""
    uses_internal_token: ClassVar[bool] = True
    """Whether the service calls or serves the internal HTTP API (`LC_INTERNAL_TOKEN`);
    one that does not is not refused for leaving it unset, and is not given it."""
    uses_kafka: ClassVar[bool] = True
    """Whether the service talks to the broker; one that does not needs no Kafka
    credentials and is not refused for a plaintext protocol."""

    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "LC_KAFKA_BOOTSTRAP_SERVERS"),
    )
    mongodb_uri: SecretStr = Field(
        SecretStr("mongodb://127.0.0.1:27017"),
        validation_alias=AliasChoices("MONGODB_URI", "LC_MONGODB_URI"),
    )
    mongodb_database: str = "leadcleanser"
    topic_prefix: str = ""
    # How stale a Kafka client's view of topics and partitions may grow (aiokafka's
    # default is 5 minutes): after a broker restarted empty, a topic created anew is
    # seen within this long.
    kafka_metadata_max_age_ms: int = Field(30_000, ge=1_000)
    # How often a service checks that its topics still exist (`kafka.keep_topics`).
    topic_check_seconds: float = Field(30.0, gt=0)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    internal_token: SecretStr = SecretStr(DEV_SECRET)
    # How the Kafka clients reach the broker (lc_common.kafka.kafka_client_options).
    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    """The CA that signed the broker's certificate; none: the system's trust store."""

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        for name in self.shared_secret_names():
            if name == "internal_token" and not self.uses_internal_token:
                continue
            value: SecretStr = getattr(self, name)
            problem = weak_secret_problem(value.get_secret_value())
            if problem is not None:
                raise ValueError(
                    f"LC_{name.upper()} must be set outside development to a random secret "
                    f"of at least {MIN_SECRET_LENGTH} characters ({problem})"
                )
        return self

    @classmethod
    def shared_secret_names(cls) -> list[str]:
        """The secrets this deployment makes up itself: every field whose development
        default is `DEV_SECRET` (the internal token, the session secret, the webhook
        secret...). Credentials given by a peer (SMTP, Kafka, the store's URI) are not."""
        return [
            name
            for name, field in cls.model_fields.items()
            if isinstance(field.default, SecretStr)
            and field.default.get_secret_value() == DEV_SECRET
        ]

    @model_validator(mode="after")
    def _check_kafka_security(self) -> ServiceSettings:
        if not self.uses_kafka:
            return self
        protocol = self.kafka_security_protocol
        if self.environment == "production" and protocol == "PLAINTEXT":
            raise ValueError("LC_KAFKA_SECURITY_PROTOCOL must not be PLAINTEXT in production")
        if protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"LC_KAFKA_SASL_USERNAME and LC_KAFKA_SASL_PASSWORD are needed with {protocol}"
            )
        return self

    @property
    def database_name(self) -> str:
        """The owning service's database: `<mongodb_database>_<owner>`."""
        return f"{self.mongodb_database}_{self.owner}" if self.owner else self.mongodb_database

    def topic(self, name: str) -> str:
        """The broker topic for a logical topic name, with this deployment's prefix."""
        return f"{self.topic_prefix}{name}"


def weak_secret_problem(secret: str) -> str | None:
    """Why `secret` is too weak for production, or None if it is strong enough.

    Weak: the development value (or a secret containing it), shorter than
    `MIN_SECRET_LENGTH`, or fewer than `MIN_SECRET_DISTINCT` different characters.
    The answer never contains the secret.
    """
    if DEV_SECRET in secret:
        return "it is the development value"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return "it has too little variety"
    return None


class MailingServiceSettings(ServiceSettings):
    """A service that sends mail itself: the SMTP relay, and whom mails come from."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    mail_from: str = "Lead Cleanser <noreply@leadcleanser.local>"
