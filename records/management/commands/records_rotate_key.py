"""Re-encrypt every stored ID number under the newest key of RECORDS_ENCRYPTION_KEYS.

Rotate: put a new key in front of RECORDS_ENCRYPTION_KEYS and deploy; run this command; once it
reports success, the old key can be dropped from the list.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from records.services.keys import id_numbers_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt patients' ID numbers under the first key of RECORDS_ENCRYPTION_KEYS."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        count = id_numbers_reencrypt(batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {count} ID numbers under the newest key.")
        )
