"""Configuration from the environment (and an optional `.env`), validated once at start.

Each concern is its own model; `Settings` combines them. Unknown keys in `.env` are refused so a typo fails
fast instead of silently falling back to a default, and placeholder secrets are refused outside dev.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_KEY = "dev-only-secret-key-change-me-dev-only-secret-key"  # noqa: S105 (refused outside dev)


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


_CONFIG = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="forbid", populate_by_name=True, case_sensitive=False
)


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class AppSettings(BaseSettings):
    model_config = _CONFIG

    env: Environment = Field(Environment.DEV, validation_alias=_env("TESSERA_ENV"))
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY),
        validation_alias=_env("TESSERA_SECRET_KEY"),
        description="Signs CSRF tokens and derives local secrets; 32+ characters.",
    )
    host: str = Field("127.0.0.1", validation_alias=_env("TESSERA_HOST"))
    port: int = Field(8000, ge=1, le=65535, validation_alias=_env("TESSERA_PORT"))
    workers: int = Field(2, ge=1, le=64, validation_alias=_env("TESSERA_WORKERS"))
    web_dist: Path = Field(ROOT / "frontend" / "dist", validation_alias=_env("TESSERA_WEB_DIST"))
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("CORS_ORIGINS")
    )
    log_level: str = Field("INFO", validation_alias=_env("TESSERA_LOG_LEVEL"))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


class DatabaseSettings(BaseSettings):
    model_config = _CONFIG

    database_url: SecretStr = Field(
        SecretStr("postgresql://tessera:tessera@127.0.0.1:55432/tessera"),
        validation_alias=_env("DATABASE_URL"),
    )
    db_pool_min_size: int = Field(0, ge=0, validation_alias=_env("DB_POOL_MIN_SIZE"))
    db_pool_max_size: int = Field(20, ge=1, validation_alias=_env("DB_POOL_MAX_SIZE"))
    db_command_timeout: float = Field(30.0, gt=0, validation_alias=_env("DB_COMMAND_TIMEOUT"))


class RedisSettings(BaseSettings):
    model_config = _CONFIG

    redis_url: SecretStr = Field(SecretStr("redis://127.0.0.1:56379/0"), validation_alias=_env("REDIS_URL"))


class SignerSettings(BaseSettings):
    model_config = _CONFIG

    signer_url: str = Field(
        f"unix://{ROOT / '.state' / 'signer' / 'signer.sock'}", validation_alias=_env("SIGNER_URL")
    )
    signer_token_file: Path = Field(
        ROOT / ".state" / "signer" / "token", validation_alias=_env("SIGNER_TOKEN_FILE")
    )
    evm_rpc_url: str | None = Field(None, validation_alias=_env("EVM_RPC_URL"))


class TelemetrySettings(BaseSettings):
    model_config = _CONFIG

    otlp_endpoint: str | None = Field(None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    service_name: str = Field("tessera-api", validation_alias=_env("OTEL_SERVICE_NAME"))
    success_sample_ratio: float = Field(
        0.1, ge=0.0, le=1.0, validation_alias=_env("OTEL_TRACES_SUCCESS_SAMPLE_RATIO")
    )


class Settings(AppSettings, DatabaseSettings, RedisSettings, SignerSettings, TelemetrySettings):
    """Everything the API process reads from its environment."""

    model_config = _CONFIG

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self) -> Self:
        if self.env is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET_KEY or len(secret) < 32:
                raise ValueError(
                    "TESSERA_SECRET_KEY must be set to a random value of 32+ characters in production"
                )
            if "tessera:tessera@" in self.database_url.get_secret_value():
                raise ValueError(
                    "DATABASE_URL uses the local development password; set a real one in production"
                )
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        return self

    @cached_property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV
