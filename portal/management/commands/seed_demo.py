"""Demo data for `make run`: idempotent, safe to run on every start.

The patient and platform accounts live here; the city's hospitals, departments, doctors, staff
accounts and holiday calendar come from `hospitals.demo.seed_directory`.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from appointments.demo import seed_rotas_and_slots
from appointments.familydoctors.demo import seed_family_teams
from hospitals.demo import DEMO_PASSWORD, seed_directory
from records.demo import seed_drugs, seed_families, seed_past_visits
from telemedicine.demo import seed_text_offers


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    phone: str
    role: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_ACCOUNTS = (
    DemoAccount(
        "patient@demo.test",
        "王芳 Wang Fang",
        "+8613800000001",
        "patient; books for her daughter and her mother",
    ),
    DemoAccount(
        "family@demo.test", "李明 Li Ming", "+8613800000002", "patient; books for his father"
    ),
    DemoAccount(
        "admin@demo.test",
        "平台管理员 Platform Admin",
        "+8613800000009",
        "platform admin (asked to set up two-factor authentication at first sign-in)",
        is_staff=True,
        is_superuser=True,
    ),
)


class Command(BaseCommand):
    help = "Create the demo city and accounts (idempotent) and print the accounts."

    def handle(self, *args, **options) -> None:
        created = 0
        users = {}
        with transaction.atomic():
            for account in DEMO_ACCOUNTS:
                user, was_created = User.objects.get_or_create(
                    email=account.email,
                    defaults={
                        "name": account.name,
                        "phone": account.phone,
                        "phone_verified": True,
                        "is_staff": account.is_staff,
                        "is_superuser": account.is_superuser,
                    },
                )
                if was_created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                    created += 1
                EmailAddress.objects.get_or_create(
                    user=user, email=account.email, defaults={"verified": True, "primary": True}
                )
                users[account.email] = user
            directory = seed_directory(password=DEMO_PASSWORD)
            family = seed_families(accounts=users)
            drugs = seed_drugs()
            rotas = seed_rotas_and_slots()
            visits = seed_past_visits()
            seed_text_offers()
            seed_family_teams(accounts=users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(directory['hospitals'])} hospitals, "
                f"{len(directory['departments'])} departments, {len(directory['doctors'])} "
                f"doctors, {family} new family members, {drugs} new drugs, "
                f"{rotas['rules_created']} new rota "
                f"lines, {rotas['slots_created']} new slots, {visits} new past visits "
                f"({created} new patient/platform accounts)."
            )
        )
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        accounts = [(account.email, account.role) for account in DEMO_ACCOUNTS]
        accounts += directory["accounts"]
        for email, role in accounts:
            self.stdout.write(f"  {email:<26} {role}")
        self.stdout.write("Staff accounts set up two-factor authentication at first sign-in.")
