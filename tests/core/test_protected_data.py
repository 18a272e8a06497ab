"""ID and phone numbers are never in clear text in the database; masked by default."""

from __future__ import annotations

import pytest
from django.db import connection

from jiuzhu.core.crypto import DecryptionError, FieldCipher, field_cipher
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import ID_COLUMN, PHONE_COLUMN, id_number_index
from tests.conftest import ID_CHILD, ID_HEAD, ID_SPOUSE, Family


def all_text_in_database() -> str:
    """Every value of every column of every table, as one string (SQLite and PostgreSQL)."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - table names from introspection
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


@pytest.mark.django_db
def test_id_and_phone_numbers_are_not_stored_in_clear_text(family: Family) -> None:
    # when
    dump = all_text_in_database()
    # then
    for secret in (ID_HEAD, ID_SPOUSE, ID_CHILD, "13807960001"):
        assert secret not in dump
    # … but the household was stored, with masked forms for display
    assert "3624**********0018" in dump
    assert "138****0001" in dump


@pytest.mark.django_db
def test_ciphertext_opens_to_the_number_and_the_blind_index_finds_the_person(
    family: Family,
) -> None:
    person = Person.objects.get(id_number_index=id_number_index(ID_SPOUSE))
    assert person.pk == family.spouse.pk
    assert field_cipher().decrypt(person.id_number_encrypted, column=ID_COLUMN) == ID_SPOUSE


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_column_does_not_open(family: Family) -> None:
    with pytest.raises(DecryptionError):
        field_cipher().decrypt(family.head.id_number_encrypted, column=PHONE_COLUMN)


def test_encryption_is_randomised_and_keys_rotate() -> None:
    old = FieldCipher.from_config("k1:" + "A" * 43, "B" * 43)
    rotated = FieldCipher.from_config("k2:" + "C" * 43 + ",k1:" + "A" * 43, "B" * 43)
    token = old.encrypt(ID_HEAD, column=ID_COLUMN)
    assert token != old.encrypt(ID_HEAD, column=ID_COLUMN)
    assert rotated.decrypt(token, column=ID_COLUMN) == ID_HEAD
    assert rotated.encrypt(ID_HEAD, column=ID_COLUMN).startswith("k2$")
    # The blind index depends only on the index key, so rotation keeps look-ups working.
    assert old.blind_index(ID_HEAD, column=ID_COLUMN) == rotated.blind_index(
        ID_HEAD, column=ID_COLUMN
    )


def test_bulk_and_single_forms_agree() -> None:
    cipher = FieldCipher.from_config("k1:" + "A" * 43, "B" * 43)
    values = [ID_HEAD, ID_SPOUSE]
    assert cipher.blind_index_many(values, column=ID_COLUMN) == [
        cipher.blind_index(v, column=ID_COLUMN) for v in values
    ]
    assert [
        cipher.decrypt(t, column=ID_COLUMN) for t in cipher.encrypt_many(values, column=ID_COLUMN)
    ] == values


def test_a_tampered_ciphertext_does_not_open() -> None:
    cipher = FieldCipher.from_config("k1:" + "A" * 43, "B" * 43)
    token = cipher.encrypt(ID_HEAD, column=ID_COLUMN)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, column=ID_COLUMN)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        FieldCipher.from_config("k1:AAAA", "B" * 43)


def test_a_malformed_ciphertext_is_a_decryption_error() -> None:
    cipher = FieldCipher.from_config("k1:" + "A" * 43, "B" * 43)
    with pytest.raises(DecryptionError):
        cipher.decrypt("k1$not*base64", column=ID_COLUMN)
