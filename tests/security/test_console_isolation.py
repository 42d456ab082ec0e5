"""The admin of hospital X against hospital Y: every console form, query-string filter, bulk
action and desk action fed Y's ids reads 0 rows of Y and writes 0 rows of Y (the database is
compared after every request)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, CalendarToken, Closure, ScheduleRule, Slot
from appointments.services import appointment_book, calendar_token_issue, closure_create
from hospitals.models import Department, Doctor
from tests.appointments.conftest import person
from tests.conftest import sign_in_recently
from tests.security.matrix import body_of
from tests.security.world import build_world, canary

pytestmark = pytest.mark.django_db


def rows_of_y(y) -> dict[str, list]:
    return {
        "departments": list(Department.objects.filter(hospital=y).order_by("pk").values_list()),
        "doctors": list(Doctor.objects.filter(hospital=y).order_by("pk").values_list()),
        "rules": list(ScheduleRule.objects.filter(doctor__hospital=y).order_by("pk").values_list()),
        "slots": list(Slot.objects.filter(doctor__hospital=y).order_by("pk").values_list()),
        "closures": list(Closure.objects.filter(hospital=y).order_by("pk").values_list())
        + list(Closure.objects.filter(doctor__hospital=y).order_by("pk").values_list())
        + list(Closure.objects.filter(department__hospital=y).order_by("pk").values_list()),
        "appointments": list(Appointment.objects.filter(slot__site=y).order_by("pk").values_list()),
        "tokens": list(
            CalendarToken.objects.filter(doctor__hospital=y).order_by("pk").values_list()
        ),
    }


@pytest.fixture
def two_hospitals(db):
    world = build_world()
    y = world.objects["hospital_y"]
    doctor_y = world.objects["doctor_y"]
    admin_y = world.users["admin_y"]
    slot_y = Slot.objects.create(
        doctor=doctor_y,
        site=y,
        department=doctor_y.department,
        start=timezone.now() + dt.timedelta(days=2),
        end=timezone.now() + dt.timedelta(days=2, minutes=30),
        mode="in_person",
        capacity=3,
        fee="10.00",
        release_at=timezone.now() - dt.timedelta(days=1),
        referral_release_at=timezone.now() - dt.timedelta(days=2),
        referral_merge_at=timezone.now() + dt.timedelta(days=1),
    )
    patient_y, account_y = person(name=canary("person", "HospitalYPatient"))
    appointment_y = appointment_book(
        patient=patient_y, slot=slot_y, booked_by=account_y, visit_reason=canary("cli", "YReason")
    )
    closure_y = closure_create(
        scope="doctor",
        doctor=doctor_y,
        starts_at=timezone.now() + dt.timedelta(days=40),
        ends_at=timezone.now() + dt.timedelta(days=41),
        reason=canary("hospital", "YClosure"),
        by=admin_y,
    )
    token_y, _secret = calendar_token_issue(
        owner=admin_y, purpose=CalendarToken.Purpose.DOCTOR_SESSIONS, doctor=doctor_y, by=admin_y
    )
    client = Client()
    # Signed in just now: the day's CSV sits behind allauth's reauthentication, and the
    # isolation check must reach the view, not the password prompt.
    sign_in_recently(client, world.users["admin_x"])
    return {
        "world": world,
        "client": client,
        "x": world.objects["hospital"],
        "y": y,
        "doctor_y": doctor_y,
        "department_y": world.objects["department_y"],
        "rule_y": world.objects["rule_y"],
        "slot_y": slot_y,
        "appointment_y": appointment_y,
        "closure_y": closure_y,
        "token_y": token_y,
        "canaries": [
            canary("person", "HospitalYPatient"),
            canary("cli", "YReason"),
            canary("hospital", "YClosure"),
            appointment_y.code,
        ],
    }


def _forged_posts(s) -> list[tuple[str, dict]]:
    x = s["x"].slug
    doctor_x = s["world"].objects["doctor"]
    rule_x = s["world"].objects["rule"]
    later = timezone.localtime() + dt.timedelta(days=1)
    window = {
        "starts_at": later.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (later + dt.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "forged",
        "confirm": "yes",
    }
    rota = {
        "weekday": "2",
        "start_time": "08:00",
        "end_time": "09:00",
        "slot_minutes": "30",
        "public_places": "2",
        "referral_places": "0",
        "mode": "in_person",
        "fee": "10",
        "valid_from": timezone.localdate().isoformat(),
    }
    doctor_fields = {
        "name": "Forged",
        "name_en": "Forged",
        "title": "attending",
        "specialties": "",
        "bio": "",
    }
    return [
        # Closures naming Y's doctor or department under X's console.
        (
            reverse("console_closure_new", args=[x]),
            {**window, "scope": "doctor", "doctor": s["doctor_y"].pk},
        ),
        (
            reverse("console_closure_new", args=[x]),
            {**window, "scope": "department", "department": s["department_y"].pk},
        ),
        # A doctor added to, or moved into, Y's department.
        (
            reverse("console_doctor_add", args=[x]),
            {**doctor_fields, "department": s["department_y"].pk},
        ),
        (
            reverse("console_doctor_edit", args=[x, doctor_x.pk]),
            {**doctor_fields, "department": s["department_y"].pk},
        ),
        # Y's objects addressed through X's console.
        (reverse("console_doctor_edit", args=[x, s["doctor_y"].pk]), doctor_fields),
        (reverse("console_doctor_deactivate", args=[x, s["doctor_y"].pk]), {}),
        (reverse("console_doctor_invite", args=[x, s["doctor_y"].pk]), {"email": "f@x.test"}),
        (reverse("console_department_edit", args=[x, s["department_y"].pk]), {"name": "F"}),
        (reverse("console_department_deactivate", args=[x, s["department_y"].pk]), {}),
        (reverse("console_rota", args=[x, s["doctor_y"].pk]), rota),
        (reverse("console_rota", args=[x, doctor_x.pk]), {**rota, "site": s["y"].pk}),
        (reverse("console_rota_edit", args=[x, doctor_x.pk, s["rule_y"].pk]), rota),
        (
            reverse("console_rota_edit", args=[x, doctor_x.pk, rule_x.pk]),
            {**rota, "site": s["y"].pk},
        ),
        (reverse("console_rota_delete", args=[x, doctor_x.pk, s["rule_y"].pk]), {}),
        (reverse("console_rota_delete", args=[x, s["doctor_y"].pk, s["rule_y"].pk]), {}),
        # The "revoke" bulk action of the feed links with Y's token.
        (
            reverse("console_calendar_links", args=[x, doctor_x.pk]),
            {"action": "revoke", "token": s["token_y"].pk},
        ),
        (
            reverse("console_calendar_links", args=[x, s["doctor_y"].pk]),
            {"action": "revoke", "token": s["token_y"].pk},
        ),
        # Publishing X's rota.
        (reverse("console_schedule_preview", args=[x]), {}),
        # Y's console outright.
        (reverse("console_closure_new", args=[s["y"].slug]), {**window, "scope": "hospital"}),
        (reverse("console_schedule_preview", args=[s["y"].slug]), {}),
        # The desk: checking in Y's appointment by its code.
        (reverse("desk_check_in"), {"code": s["appointment_y"].code}),
    ]


def test_forged_ids_of_hospital_y_write_nothing_of_y(two_hospitals):
    s = two_hospitals
    client = s["client"]
    failures = []
    for url, data in _forged_posts(s):
        before = rows_of_y(s["y"])
        response = client.post(url, data)
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
        if rows_of_y(s["y"]) != before:
            failures.append(f"{url} {data} changed hospital Y's rows")
        body = body_of(response)
        failures += [f"{url} shows {c}" for c in s["canaries"] if c in body]
    assert failures == []
    assert Doctor.objects.filter(name="Forged", hospital=s["y"]).count() == 0
    assert s["world"].objects["doctor"].department.hospital_id == s["x"].pk


def test_query_string_filters_naming_hospital_y_read_nothing_of_y(two_hospitals):
    s = two_hospitals
    x = s["x"].slug
    doctor_x = s["world"].objects["doctor"]
    day = s["slot_y"].start.astimezone(s["x"].zone).date().isoformat()
    pages = [
        reverse("manage"),
        reverse("console_hospital", args=[x]),
        reverse("console_departments", args=[x]),
        reverse("console_doctors", args=[x]),
        reverse("console_doctor", args=[x, doctor_x.pk]),
        reverse("console_rota_list", args=[x]),
        reverse("console_rota", args=[x, doctor_x.pk]),
        reverse("console_calendar_links", args=[x, doctor_x.pk]),
        reverse("console_schedule_preview", args=[x]),
        reverse("console_closures", args=[x]),
        reverse("console_closure_new", args=[x]),
        reverse("console_day", args=[x, day]),
        reverse("console_day_csv", args=[x, day]),
        reverse("desk"),
    ]
    forged = {
        "hospital": s["y"].pk,
        "hospital_slug": s["y"].slug,
        "doctor": s["doctor_y"].pk,
        "department": s["department_y"].pk,
        "slot": s["slot_y"].pk,
        "rule": s["rule_y"].pk,
        "token": s["token_y"].pk,
        "code": s["appointment_y"].code,
        "closure": s["closure_y"].pk,
        "weekday": "2",
        "page": "2",
    }
    # The forged code itself comes back in the page's own links (the language switch's
    # `next`); what must not come back is anything the code would have found.
    secrets = [c for c in s["canaries"] if c != s["appointment_y"].code]
    failures = []
    for page in pages:
        response = s["client"].get(page, forged)
        body = body_of(response)
        if response.status_code != 200:
            failures.append(f"{page}: {response.status_code}")
        failures += [f"{page} shows {c}" for c in secrets if c in body]
        failures += [f"{page} names Y's doctor" for _ in [1] if s["doctor_y"].name in body]
    assert failures == []
    # Y's closure and appointment are untouched, its token still live.
    assert CalendarToken.objects.get(pk=s["token_y"].pk).revoked_at is None
    assert Appointment.objects.get(pk=s["appointment_y"].pk).status == "booked"
