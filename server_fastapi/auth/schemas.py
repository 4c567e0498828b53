"""Request and response models of the auth domain. Passwords arrive as `SecretStr`, so they never show in a
repr, a log line or an error message."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from server_fastapi.core.principal import Role

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    """One form per address: NFKC, trimmed, lower-cased (the unique key of `users`)."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def _valid_email(value: str) -> str:
    value = normalise_email(value)
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


Email = Annotated[str, AfterValidator(_valid_email), Field(examples=["ada@example.com"])]
TotpCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=16,
        description="The 6-digit code from the authenticator app, or one unused recovery code.",
    ),
]
ApiKeyScope = Literal["read", "trade"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Input):
    email: Email
    password: SecretStr = Field(description="12 to 128 characters, not a common password.")
    display_name: str = Field(min_length=1, max_length=100)


class LoginRequest(_Input):
    email: Email
    password: SecretStr = Field(max_length=1024)
    totp: TotpCode | None = None


class RefreshRequest(_Input):
    refresh_token: SecretStr | None = Field(
        None, description="Bearer clients send it here; browsers send the refresh cookie instead."
    )


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name)
    expires_in: int = Field(description="Seconds until the access token expires.")


class User(BaseModel):
    id: UUID
    email: str
    display_name: str | None
    role: Role
    totp_enabled: bool
    created_at: datetime


class Me(User):
    auth_method: Literal["session_cookie", "bearer", "api_key"]
    scopes: list[str]


class TotpEnrollment(BaseModel):
    secret: str = Field(description="Base32 secret, for typing into an authenticator by hand.")
    otpauth_uri: str = Field(description="`otpauth://totp/...`, to show as a QR code.")


class TotpCodeRequest(_Input):
    code: TotpCode


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each signs in once in place of a code.")


class ApiKeyCreate(_Input):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[ApiKeyScope] = Field(
        min_length=1, max_length=4, description="`read`, `trade`; never withdrawal."
    )
    ip_allowlist: list[IPv4Network | IPv6Network] | None = Field(
        None, max_length=32, description="When set, the key works only from these networks."
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    totp: TotpCode | None = Field(None, description="Required when two-factor authentication is enabled.")


class ApiKey(BaseModel):
    id: UUID
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    scopes: list[ApiKeyScope]
    ip_allowlist: list[IPv4Network | IPv6Network] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret key; shown this once and never again.")


class ApiKeyPage(BaseModel):
    items: list[ApiKey]
    next_cursor: str | None = None
