"""Access tokens (ES256 JWTs), opaque refresh tokens and API keys, and CSRF tokens.

Signing keys live in `JWT_PRIVATE_KEYS_DIR`, one PEM per key id (`<kid>.pem`). The current key (the
`JWT_SIGNING_KEY_ID`, or the last id in sort order) signs; every key in the folder verifies, so rotating is:
add a key, make it current, remove the old one once the last token it signed has expired (15 minutes).
Dev and test generate a key when the folder is empty; production refuses to start without one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server_fastapi.core.settings import AuthSettings

logger = logging.getLogger(__name__)

ALGORITHM = "ES256"
# RFC 9068: a token of another kind (an ID token, a refresh token) cannot pass as an access token.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a type name)
REFRESH_TOKEN_PREFIX = "tsr_"  # noqa: S105 (a prefix, not a secret)
API_KEY_PREFIX = "tsk_"
DEV_KEY_ID = "dev"
LEEWAY_SECONDS = 5
# A client sends the same access token with every request for its 15 minutes; an ES256 verification costs
# far more than the rest of authentication, so each keyring remembers the claims of tokens it verified.
VERIFIED_TOKENS_KEPT = 8192


class KeyringError(RuntimeError):
    pass


class TokenRejected(Exception):
    """The token is not one we issued or no longer valid; the message is for logs, not for clients."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID
    jti: str
    expires_at: int


@dataclass(frozen=True)
class Keyring:
    signing_kid: str
    private_keys: dict[str, ec.EllipticCurvePrivateKey]
    # (token, issuer, audience) -> its claims; a token string verifies the same way until it expires, and a
    # rotated keyring is a new object with nothing remembered.
    verified: dict[tuple[str, str, str], AccessClaims] = field(
        default_factory=dict, compare=False, repr=False
    )

    def public_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        key = self.private_keys.get(kid)
        return key.public_key() if key is not None else None


_keyrings: dict[tuple[Path, str | None], Keyring] = {}


def load_keyring(settings: AuthSettings, *, generate: bool) -> Keyring:
    """The keys in `settings.jwt_private_keys_dir`, loaded once per process. With `generate`, an empty or
    missing folder gets a fresh P-256 key (dev and test only)."""
    cache_key = (settings.jwt_private_keys_dir, settings.jwt_signing_key_id)
    cached = _keyrings.get(cache_key)
    if cached is not None:
        return cached
    folder = settings.jwt_private_keys_dir
    if generate and not any(folder.glob("*.pem")):
        _generate_key(folder)
    keys: dict[str, ec.EllipticCurvePrivateKey] = {}
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise KeyringError(f"{path} is not a P-256 (ES256) private key")
        keys[path.stem] = key
    if not keys:
        raise KeyringError(f"no JWT signing keys in {folder} (JWT_PRIVATE_KEYS_DIR): add <key id>.pem")
    signing_kid = settings.jwt_signing_key_id or sorted(keys)[-1]
    if signing_kid not in keys:
        raise KeyringError(f"JWT_SIGNING_KEY_ID {signing_kid!r} has no key file in {folder}")
    keyring = Keyring(signing_kid=signing_kid, private_keys=keys)
    _keyrings[cache_key] = keyring
    return keyring


def _generate_key(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written beside, then linked under a fixed name: of several processes starting at once exactly one
    # key wins (the link fails if it exists) and nobody reads half a file.
    descriptor, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        os.link(temporary, folder / f"{DEV_KEY_ID}.pem")
        logger.info("generated a development JWT signing key", extra={"folder": str(folder)})
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def issue_access_token(
    keyring: Keyring, settings: AuthSettings, *, user_id: UUID, session_id: UUID, now: float | None = None
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    issued = int(now if now is not None else time.time())
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
    }
    key = keyring.private_keys[keyring.signing_kid]
    token = jwt.encode(
        claims, key, algorithm=ALGORITHM, headers={"kid": keyring.signing_kid, "typ": ACCESS_TOKEN_TYPE}
    )
    return token, ttl


def decode_access_token(keyring: Keyring, settings: AuthSettings, token: str) -> AccessClaims:
    """Verify signature (ES256 only: `alg: none` and HMAC confusion are refused), key id, type, issuer,
    audience and times; raise `TokenRejected` otherwise. A token verified before is checked only for
    expiry."""
    remembered = (token, settings.jwt_issuer, settings.jwt_audience)
    known = keyring.verified.get(remembered)
    if known is not None:
        if time.time() < known.expires_at + LEEWAY_SECONDS:
            return known
        del keyring.verified[remembered]
        raise TokenRejected("invalid token: ExpiredSignatureError")
    claims = _verify_access_token(keyring, settings, token)
    if len(keyring.verified) >= VERIFIED_TOKENS_KEPT:
        del keyring.verified[next(iter(keyring.verified))]
    keyring.verified[remembered] = claims
    return claims


def _verify_access_token(keyring: Keyring, settings: AuthSettings, token: str) -> AccessClaims:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRejected(f"malformed token: {type(error).__name__}") from None
    if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
        raise TokenRejected("unexpected algorithm or token type")
    kid = header.get("kid")
    public_key = keyring.public_key(kid) if isinstance(kid, str) else None
    if public_key is None:
        raise TokenRejected("unknown key id")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid"]},
            leeway=LEEWAY_SECONDS,
        )
        return AccessClaims(
            user_id=UUID(claims["sub"]),
            session_id=UUID(claims["sid"]),
            jti=str(claims["jti"]),
            expires_at=int(claims["exp"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise TokenRejected(f"invalid token: {type(error).__name__}") from None


def new_opaque_token(prefix: str) -> str:
    """256 random bits, URL-safe, with a prefix that says what it is (and lets secret scanners find it)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """Refresh tokens and API keys are 256-bit random strings, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(token.encode()).digest()


def new_csrf_token(secret: str, session_id: UUID) -> str:
    """A double-submit token signed with the server secret and bound to the session, so a cookie planted
    by a sibling subdomain (or left from another session) does not pass."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_csrf_mac(secret, session_id, nonce)}"


def verify_csrf_token(secret: str, session_id: UUID, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    if not nonce or not mac:
        return False
    return hmac.compare_digest(mac, _csrf_mac(secret, session_id, nonce))


def _csrf_mac(secret: str, session_id: UUID, nonce: str) -> str:
    digest = hmac.new(secret.encode(), f"csrf|{session_id}|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
