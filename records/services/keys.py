"""Key rotation for the encrypted ID numbers (the records_rotate_key command)."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from records import crypto
from records.models import Patient


def id_numbers_reencrypt(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored ID number under the newest key; returns how many rows."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                Patient.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "id_number_encrypted")[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                row.id_number_encrypted = crypto.reencrypt(row.id_number_encrypted)
            Patient.objects.bulk_update(rows, ["id_number_encrypted"])
            last_pk = rows[-1].pk
            done += len(rows)
    audit_record(actor=None, action="patient.reencrypt_id_numbers", data={"rows": done})
    return done
