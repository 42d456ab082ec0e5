from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from appointments.services.rota import slots_generate


class Command(BaseCommand):
    help = "Create the slots of the next N days from the weekly rotas (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=14, help="How many days from today.")

    def handle(self, *args, days: int, **options) -> None:
        if days < 1 or days > 366:
            raise CommandError("--days must be between 1 and 366.")
        today = timezone.localdate()
        created = slots_generate(start=today, end=today + dt.timedelta(days=days - 1))
        self.stdout.write(f"Created {created} slots for the {days} days from {today}.")
