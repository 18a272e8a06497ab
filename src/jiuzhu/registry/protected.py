"""Encrypting, indexing and masking of the two protected fields of a person."""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhu.core.crypto import field_cipher
from jiuzhu.core.idnumbers import normalise_phone, parse_id_number
from jiuzhu.core.masking import mask_id_number, mask_phone

ID_COLUMN = "registry.person.id_number"
PHONE_COLUMN = "registry.person.phone"


@dataclass(frozen=True)
class Protected:
    encrypted: str
    index: str
    masked: str


def protect_id_number(value: str) -> Protected:
    number = parse_id_number(value).number
    cipher = field_cipher()
    return Protected(
        encrypted=cipher.encrypt(number, column=ID_COLUMN),
        index=cipher.blind_index(number, column=ID_COLUMN),
        masked=mask_id_number(number),
    )


def protect_phone(value: str) -> Protected:
    if not value:
        return Protected("", "", "")
    phone = normalise_phone(value)
    cipher = field_cipher()
    return Protected(
        encrypted=cipher.encrypt(phone, column=PHONE_COLUMN),
        index=cipher.blind_index(phone, column=PHONE_COLUMN),
        masked=mask_phone(phone),
    )


def id_number_index(value: str) -> str:
    """Blind index of an ID number typed by a user (for search and deduplication)."""
    number = parse_id_number(value).number
    return field_cipher().blind_index(number, column=ID_COLUMN)


def phone_index(value: str) -> str:
    return field_cipher().blind_index(normalise_phone(value), column=PHONE_COLUMN)


def reveal_id_number(encrypted: str) -> str:
    return field_cipher().decrypt(encrypted, column=ID_COLUMN)


def reveal_phone(encrypted: str) -> str:
    return field_cipher().decrypt(encrypted, column=PHONE_COLUMN) if encrypted else ""
