"""TOTP second factor (RFC 6238 through pyotp) and recovery codes.

The shared secret is stored encrypted (AES-256-GCM under a key derived from `TESSERA_SECRET_KEY`, with the
user id as associated data, so a secret copied to another row does not decrypt). A code is accepted once:
the time step it matched is remembered and that step or an earlier one is refused afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from uuid import UUID

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "Tessera"
STEP_SECONDS = 30
VALID_WINDOW = 1  # one step either side: clocks drift
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tessera totp secret v1").derive(
        secret_key.encode()
    )


def new_secret() -> str:
    return pyotp.random_base32(32)


def encrypt_secret(secret_key: str, user_id: UUID, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), user_id.bytes)


def decrypt_secret(secret_key: str, user_id: UUID, blob: bytes) -> str:
    return AESGCM(_key(secret_key)).decrypt(blob[:12], blob[12:], user_id.bytes).decode()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, *, after_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` is valid for (within the window), if it is later than `after_step`."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    def one() -> str:
        chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        return f"{chars[:5]}-{chars[5:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def recovery_code_hash(secret_key: str, code: str) -> bytes:
    """Keyed hash: 50 bits of entropy per code is too little for a plain hash to resist a stolen table."""
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return hmac.new(secret_key.encode(), b"recovery|" + normalised.encode(), hashlib.sha256).digest()


def looks_like_recovery_code(code: str) -> bool:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return len(normalised) == 10 and all(c in _RECOVERY_ALPHABET for c in normalised)
