"""Configuration from the environment (and an optional `.env`), validated once at start.

Each concern is its own model; `Settings` combines them. Unknown keys in `.env` are refused so a typo fails
fast instead of silently falling back to a default, and placeholder secrets are refused outside dev.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
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
    signer_ca_file: Path | None = Field(
        None,
        validation_alias=_env("SIGNER_CA_FILE"),
        description="PEM CA bundle that verifies the signer's certificate when SIGNER_URL is https://.",
    )
    evm_rpc_url: str | None = Field(None, validation_alias=_env("EVM_RPC_URL"))


class WithdrawalSettings(BaseSettings):
    """Which chains withdrawals use, what they cost, and when compliance reviews one first.

    A withdrawal is offered for an (asset, chain) pair with a fee in `WITHDRAWAL_FEES` on a chain with a hot
    wallet in `WITHDRAWAL_HOT_WALLETS`; the asset must be the chain's native coin (ETH)."""

    model_config = _CONFIG

    withdrawal_hot_wallets: dict[int, str] = Field(
        default_factory=lambda: {11155111: "hot"},
        validation_alias=_env("WITHDRAWAL_HOT_WALLETS"),
        description='JSON: chain id → the signer key id that sends from that chain, e.g. {"1": "hot"}.',
    )
    withdrawal_fees: dict[str, Decimal] = Field(
        default_factory=lambda: {"ETH:11155111": Decimal("0.0005")},
        validation_alias=_env("WITHDRAWAL_FEES"),
        description='JSON: "ASSET:CHAIN_ID" → fee in the asset, e.g. {"ETH:1": "0.002"}.',
    )
    withdrawal_review_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {"ETH": Decimal("5")},
        validation_alias=_env("WITHDRAWAL_REVIEW_THRESHOLDS"),
        description="JSON: asset → amount from which a withdrawal goes to compliance review.",
    )
    withdrawal_denied_addresses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("WITHDRAWAL_DENIED_ADDRESSES"),
        description="Comma-separated sanctioned addresses; a withdrawal to one goes to compliance review.",
    )
    withdrawal_max_fee_per_gas_wei: int = Field(
        50 * 10**9, ge=1, validation_alias=_env("WITHDRAWAL_MAX_FEE_PER_GAS_WEI")
    )
    withdrawal_max_priority_fee_per_gas_wei: int = Field(
        2 * 10**9, ge=0, validation_alias=_env("WITHDRAWAL_MAX_PRIORITY_FEE_PER_GAS_WEI")
    )
    withdrawal_confirmations: int = Field(
        1,
        ge=1,
        le=1000,
        validation_alias=_env("WITHDRAWAL_CONFIRMATIONS"),
        description="Blocks (the receipt's included) before a withdrawal counts as confirmed.",
    )
    withdrawal_processor: bool = Field(
        True,
        validation_alias=_env("WITHDRAWAL_PROCESSOR"),
        description="Run the withdrawal processor (sign, broadcast, follow receipts) in this process.",
    )
    withdrawal_poll_seconds: float = Field(
        2.0, gt=0, le=300, validation_alias=_env("WITHDRAWAL_POLL_SECONDS")
    )

    @field_validator("withdrawal_denied_addresses", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return [address.strip() for address in value.split(",") if address.strip()]
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.withdrawal_max_priority_fee_per_gas_wei > self.withdrawal_max_fee_per_gas_wei:
            raise ValueError(
                "WITHDRAWAL_MAX_PRIORITY_FEE_PER_GAS_WEI cannot exceed WITHDRAWAL_MAX_FEE_PER_GAS_WEI"
            )
        for route, fee in self.withdrawal_fees.items():
            asset, _, chain_id = route.partition(":")
            if not asset or not chain_id.isdigit() or fee < 0:
                raise ValueError(f'WITHDRAWAL_FEES: "{route}": {fee} is not "ASSET:CHAIN_ID": fee >= 0')
        return self

    def withdrawal_fee(self, asset: str, chain_id: int) -> Decimal | None:
        return self.withdrawal_fees.get(f"{asset}:{chain_id}")


class TelemetrySettings(BaseSettings):
    model_config = _CONFIG

    otlp_endpoint: str | None = Field(None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    service_name: str = Field("tessera-api", validation_alias=_env("OTEL_SERVICE_NAME"))
    success_sample_ratio: float = Field(
        0.1, ge=0.0, le=1.0, validation_alias=_env("OTEL_TRACES_SUCCESS_SAMPLE_RATIO")
    )


class AuthSettings(BaseSettings):
    model_config = _CONFIG

    jwt_private_keys_dir: Path = Field(
        ROOT / ".state" / "jwt",
        validation_alias=_env("JWT_PRIVATE_KEYS_DIR"),
        description="One ES256 private key per file, `<key id>.pem`; dev and test generate one when empty.",
    )
    jwt_signing_key_id: str | None = Field(
        None,
        validation_alias=_env("JWT_SIGNING_KEY_ID"),
        description="The key that signs new tokens; default: the last key id in sort order. Every key in the "
        "folder still verifies, so a new key can be added, made current, and the old one removed later.",
    )
    jwt_issuer: str = Field("tessera", min_length=1, validation_alias=_env("JWT_ISSUER"))
    jwt_audience: str = Field("tessera-api", min_length=1, validation_alias=_env("JWT_AUDIENCE"))
    access_token_ttl_seconds: int = Field(
        900, ge=60, le=3600, validation_alias=_env("AUTH_ACCESS_TOKEN_TTL_SECONDS")
    )
    refresh_token_ttl_seconds: int = Field(
        14 * 86400, ge=300, le=90 * 86400, validation_alias=_env("AUTH_REFRESH_TOKEN_TTL_SECONDS")
    )
    session_max_age_seconds: int = Field(
        30 * 86400,
        ge=300,
        le=365 * 86400,
        validation_alias=_env("AUTH_SESSION_MAX_AGE_SECONDS"),
        description="A session ends this long after sign-in however often it is refreshed.",
    )
    cookie_secure: bool | None = Field(
        None,
        validation_alias=_env("AUTH_COOKIE_SECURE"),
        description="Secure flag on session cookies; default true except in dev and test (plain http).",
    )
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("TRUSTED_PROXIES"),
        description="Comma-separated CIDRs whose X-Forwarded-For is believed when finding the client IP.",
    )
    argon2_time_cost: int = Field(3, ge=2, le=20, validation_alias=_env("ARGON2_TIME_COST"))
    argon2_memory_kib: int = Field(65536, ge=19456, le=1048576, validation_alias=_env("ARGON2_MEMORY_KIB"))
    argon2_parallelism: int = Field(4, ge=1, le=16, validation_alias=_env("ARGON2_PARALLELISM"))

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]
        return value


class MarketSettings(BaseSettings):
    model_config = _CONFIG

    market_simulator: bool = Field(
        False,
        validation_alias=_env("MARKET_SIMULATOR"),
        description="on: publish simulated trades for every instrument (dev only; ignored in production).",
    )
    market_simulator_seed: int = Field(7, validation_alias=_env("MARKET_SIMULATOR_SEED"))
    market_simulator_speed: float = Field(
        1.0, gt=0, le=1000, validation_alias=_env("MARKET_SIMULATOR_SPEED"), description="Time multiplier"
    )


class ComplianceSettings(BaseSettings):
    model_config = _CONFIG

    kyc_master_key: SecretStr | None = Field(
        None,
        validation_alias=_env("KYC_MASTER_KEY"),
        description="Base64 of 32 random bytes; wraps every user's KYC data key (AES-256-GCM). Required in "
        "production; dev and test derive one from TESSERA_SECRET_KEY.",
    )

    large_order_thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {"USDT": Decimal(100_000), "BTC": Decimal("1.5")},
        validation_alias=_env("COMPLIANCE_LARGE_ORDER_THRESHOLDS"),
        description="JSON: quote asset → notional from which an accepted order gets an audit entry, e.g. "
        '{"USDT": "100000"}; orders quoted in an asset not listed get none.',
    )
    sentinel_market_maker_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("SENTINEL_MARKET_MAKER_EMAILS"),
        description="Comma-separated accounts of designated market makers: exempt from round-trip alerts "
        "(they quote both sides all day), never from wash-trade alerts.",
    )

    @field_validator("sentinel_market_maker_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: object) -> object:
        if isinstance(value, str):
            return [email.strip().lower() for email in value.split(",") if email.strip()]
        if isinstance(value, list):
            return [str(email).strip().lower() for email in value]
        return value

    @field_validator("large_order_thresholds")
    @classmethod
    def _positive_thresholds(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        if any(amount <= 0 for amount in value.values()):
            raise ValueError("every large-order threshold must be positive")
        return {asset.upper(): amount for asset, amount in value.items()}

    @field_validator("kyc_master_key")
    @classmethod
    def _decode_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                raw = base64.b64decode(value.get_secret_value(), validate=True)
            except binascii.Error:
                raise ValueError("KYC_MASTER_KEY must be base64") from None
            if len(raw) != 32:
                raise ValueError("KYC_MASTER_KEY must decode to 32 bytes")
        return value


class AssistantSettings(BaseSettings):
    """The order assistant's optional language model: any OpenAI-compatible chat completions endpoint.
    Without `ASSISTANT_LLM_URL` the deterministic rule-based parser answers alone."""

    model_config = _CONFIG

    assistant_llm_url: str | None = Field(
        None,
        validation_alias=_env("ASSISTANT_LLM_URL"),
        description="Base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1",
    )
    assistant_llm_model: str = Field("", validation_alias=_env("ASSISTANT_LLM_MODEL"))
    assistant_llm_api_key: SecretStr | None = Field(None, validation_alias=_env("ASSISTANT_LLM_API_KEY"))
    assistant_llm_timeout_seconds: float = Field(
        8.0,
        gt=0,
        le=60,
        validation_alias=_env("ASSISTANT_LLM_TIMEOUT_SECONDS"),
        description="Budget of one model request; past it the rule-based parser answers.",
    )
    assistant_min_confidence: float = Field(
        0.9,
        ge=0.5,
        le=1.0,
        validation_alias=_env("ASSISTANT_MIN_CONFIDENCE"),
        description="The model's draft is used only at or above this stated confidence.",
    )

    @model_validator(mode="after")
    def _model_named_with_url(self) -> Self:
        if self.assistant_llm_url and not self.assistant_llm_model:
            raise ValueError("ASSISTANT_LLM_URL needs ASSISTANT_LLM_MODEL (the model name to ask for)")
        if self.assistant_llm_url and not self.assistant_llm_url.startswith(("http://", "https://")):
            raise ValueError("ASSISTANT_LLM_URL must be an http:// or https:// URL")
        return self


class Settings(
    AppSettings,
    DatabaseSettings,
    RedisSettings,
    SignerSettings,
    WithdrawalSettings,
    TelemetrySettings,
    AuthSettings,
    MarketSettings,
    ComplianceSettings,
    AssistantSettings,
):
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
            if self.kyc_master_key is None:
                raise ValueError("KYC_MASTER_KEY must be set in production (base64 of 32 random bytes)")
            if self.cookie_secure is False:
                raise ValueError(
                    "AUTH_COOKIE_SECURE=false is refused in production (cookies over plain http)"
                )
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        return self

    @cached_property
    def is_dev(self) -> bool:
        return self.env is Environment.DEV

    @cached_property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env is Environment.PRODUCTION
