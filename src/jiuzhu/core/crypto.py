"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal data.

ID and phone numbers are stored as ciphertext plus a keyed hash of their normalised
value. The hash finds a person by exact number without decrypting anything; it cannot
be reversed without the index key (a plain SHA-256 of an 18-digit ID could be brute-
forced: the space is small). See docs/security.md and docs/adr/0003-field-encryption.md.

Ciphertext format (ASCII): ``<key id>$<base64url(nonce ‖ ciphertext ‖ tag)>``. The key
id lets keys rotate: old rows stay readable, new rows use the first key. The column name
is bound as associated data, so a ciphertext copied into another column fails to open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DecryptionError(Exception):
    """A ciphertext could not be opened (wrong key, tampered, or wrong column)."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class FieldCipher:
    keys: dict[str, bytes]
    current_key_id: str
    index_key: bytes

    @classmethod
    def from_config(cls, data_keys: str, blind_index_key: str) -> FieldCipher:
        """``data_keys`` is ``id:base64key[,id:base64key…]``; the first is used to encrypt."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in data_keys.split(","):
            key_id, _, encoded = item.strip().partition(":")
            key = _b64decode(encoded)
            if not key_id or "$" in key_id or len(key) != 32:
                raise ValueError("JIUZHU_DATA_KEYS must be id:base64(32 bytes)[,…]")
            keys[key_id] = key
            order.append(key_id)
        index_key = _b64decode(blind_index_key)
        if len(index_key) < 32:
            raise ValueError("JIUZHU_BLIND_INDEX_KEY must be at least 32 bytes (base64)")
        return cls(keys=keys, current_key_id=order[0], index_key=index_key)

    def encrypt(self, plaintext: str, *, column: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(
            nonce, plaintext.encode(), column.encode()
        )
        return f"{self.current_key_id}${base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def encrypt_many(self, values: Sequence[str], *, column: str) -> list[str]:
        """Bulk form for loaders: one AESGCM object for the whole batch."""
        aead = AESGCM(self.keys[self.current_key_id])
        associated = column.encode()
        prefix = f"{self.current_key_id}$"
        out = []
        for value in values:
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, value.encode(), associated)
            out.append(prefix + base64.urlsafe_b64encode(nonce + sealed).decode())
        return out

    def decrypt(self, token: str, *, column: str) -> str:
        key_id, sep, body = token.partition("$")
        if not sep or key_id not in self.keys:
            raise DecryptionError("unknown key id")
        try:
            raw = _b64decode(body)
            plain = AESGCM(self.keys[key_id]).decrypt(raw[:12], raw[12:], column.encode())
        except Exception as exc:  # cryptography raises InvalidTag; do not leak details
            raise DecryptionError("ciphertext does not open") from exc
        return plain.decode()

    def blind_index(self, value: str, *, column: str) -> str:
        """Keyed hash of the normalised value; the column is mixed in so equal values in
        different columns do not share an index entry."""
        message = column.encode() + b"\x00" + value.encode()
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()

    def blind_index_many(self, values: Iterable[str], *, column: str) -> list[str]:
        prefix = column.encode() + b"\x00"
        base = hmac.new(self.index_key, prefix, hashlib.sha256)
        out = []
        for value in values:
            mac = base.copy()
            mac.update(value.encode())
            out.append(mac.hexdigest())
        return out


@lru_cache(maxsize=1)
def field_cipher() -> FieldCipher:
    from django.conf import settings

    return FieldCipher.from_config(settings.JIUZHU_DATA_KEYS, settings.JIUZHU_BLIND_INDEX_KEY)
