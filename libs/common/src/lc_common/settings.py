"""Settings read from the environment, one subclass per service."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"


class ServiceSettings(BaseSettings):
    """What every service needs: where the broker and store are, how to log, where to listen.

    Each service extends this class with its own fields; all are read from `LC_*`
    environment variables, except the two peer addresses, which also answer to
    the conventional `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI`.
    """

    model_config = SettingsConfigDict(env_prefix="LC_", extra="ignore")

    owner: ClassVar[str] = ""
    """The service whose data this is; each service owns its own database."""

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
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    internal_token: SecretStr = SecretStr(DEV_SECRET)

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            for name, value in self:
                if isinstance(value, SecretStr) and value.get_secret_value() == DEV_SECRET:
                    raise ValueError(f"LC_{name.upper()} must be set outside development")
        return self

    @property
    def database_name(self) -> str:
        """The owning service's database: `<mongodb_database>_<owner>`."""
        return f"{self.mongodb_database}_{self.owner}" if self.owner else self.mongodb_database

    def topic(self, name: str) -> str:
        """The broker topic for a logical topic name, with this deployment's prefix."""
        return f"{self.topic_prefix}{name}"
