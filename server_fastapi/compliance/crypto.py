"""Envelope encryption of personal data: one AES-256-GCM data key per user, wrapped by the master key.

Destroying a user's wrapped data key (crypto-shredding) makes every ciphertext made with it unreadable,
including copies in backups. The additional authenticated data binds each ciphertext to its user and to
what it is (`kind`), so a row copied to another user or another purpose fails to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server_fastapi.core.settings import Settings

NONCE_BYTES = 12
KEY_BYTES = 32
VERSION = b"\x01"


class DecryptionFailed(Exception):
    """The ciphertext was altered, or belongs to another user, purpose or key."""


@dataclass(frozen=True, slots=True)
class MasterKey:
    """The key that wraps data keys; `key_id` names it in the key store so it can be rotated."""

    key_id: str
    material: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class DataKey:
    """One user's data key, in the clear: lives only as long as one request needs it."""

    user_id: UUID
    material: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"DataKey(user_id={self.user_id})"


def master_key(settings: Settings) -> MasterKey:
    """KYC_MASTER_KEY, or in dev and test one derived from the secret key (production refuses to start
    without KYC_MASTER_KEY)."""
    configured = settings.kyc_master_key
    if configured is not None:
        material = base64.b64decode(configured.get_secret_value())
    else:
        material = HKDF(SHA256(), KEY_BYTES, salt=b"tessera", info=b"kyc-master-key").derive(
            settings.secret_key.get_secret_value().encode()
        )
    key_id = hashlib.sha256(b"tessera-kyc-master-key-id" + material).hexdigest()[:16]
    return MasterKey(key_id=key_id, material=material)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
        raise DecryptionFailed("unknown ciphertext format")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed("authentication failed") from None


def _wrap_aad(user_id: UUID, master: MasterKey) -> bytes:
    return b"tessera:kyc-data-key:" + user_id.bytes + b":" + master.key_id.encode()


def _data_aad(user_id: UUID, kind: str) -> bytes:
    return b"tessera:personal-data:" + user_id.bytes + b":" + kind.encode()


def new_data_key(user_id: UUID) -> DataKey:
    return DataKey(user_id=user_id, material=AESGCM.generate_key(bit_length=256))


def wrap(master: MasterKey, key: DataKey) -> bytes:
    return _seal(master.material, key.material, _wrap_aad(key.user_id, master))


def unwrap(master: MasterKey, user_id: UUID, wrapped: bytes) -> DataKey:
    return DataKey(user_id=user_id, material=_open(master.material, wrapped, _wrap_aad(user_id, master)))


def encrypt(key: DataKey, kind: str, plaintext: bytes) -> bytes:
    return _seal(key.material, plaintext, _data_aad(key.user_id, kind))


def decrypt(key: DataKey, kind: str, sealed: bytes) -> bytes:
    return _open(key.material, sealed, _data_aad(key.user_id, kind))
