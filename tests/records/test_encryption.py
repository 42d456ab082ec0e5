"""ID numbers at rest: encrypted, rotatable, unique through a keyed hash."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import IntegrityError, connection

from records import crypto
from records.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NUMBER = "11010519491231002X"


def _raw_row(patient: Patient) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM records_patient WHERE id = %s", [patient.pk])
        return cursor.fetchone()


def test_no_column_of_the_stored_row_holds_the_id_number():
    patient = PatientFactory(id_number=NUMBER, sex="female", birth_date="1949-12-31")

    row = _raw_row(patient)

    assert not any(NUMBER in str(value) for value in row)
    assert not any("19491231" in str(value) for value in row)  # not even its middle
    assert patient.id_number == NUMBER  # yet the service can read it back


def test_the_platform_unique_hash_is_keyed(settings):
    first = crypto.id_number_hash(NUMBER)
    settings.RECORDS_HASH_KEY = "another-key"

    assert crypto.id_number_hash(NUMBER) != first
    assert crypto.id_number_hash(NUMBER.lower()) == crypto.id_number_hash(NUMBER)


def test_the_database_refuses_a_second_row_for_the_same_id_number():
    PatientFactory(id_number=NUMBER)

    with pytest.raises(IntegrityError):
        PatientFactory(id_number=NUMBER)


def test_rows_written_under_an_old_key_stay_readable_after_a_new_key_is_added(settings):
    old_key = settings.RECORDS_ENCRYPTION_KEYS[0]
    patient = PatientFactory(id_number=NUMBER)
    new_key = Fernet.generate_key().decode()

    settings.RECORDS_ENCRYPTION_KEYS = [new_key, old_key]

    assert Patient.objects.get(pk=patient.pk).id_number == NUMBER
    # New rows go under the new key alone.
    fresh = PatientFactory()
    Fernet(new_key).decrypt(fresh.id_number_encrypted.encode())


def test_the_rotate_command_reencrypts_so_the_old_key_can_be_dropped(settings):
    old_key = settings.RECORDS_ENCRYPTION_KEYS[0]
    patients = PatientFactory.create_batch(3)
    numbers = [p.id_number for p in patients]
    new_key = Fernet.generate_key().decode()
    settings.RECORDS_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("records_rotate_key", "--batch-size", "2")

    settings.RECORDS_ENCRYPTION_KEYS = [new_key]
    assert [Patient.objects.get(pk=p.pk).id_number for p in patients] == numbers
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(Patient.objects.get(pk=patients[0].pk).id_number_encrypted.encode())
