"""One care grant per appointment (issue 13, item 2).

Before this, a second booking with the same doctor extended the first booking's grant, and a
cancel ended nothing. Now each appointment has its own grant and a cancel ends it. Existing
rows are brought in line: every appointment still under way (or in its week of follow-up)
gets its own grant, then the grants of cancelled appointments end. Lives in appointments
because records never reads appointments (DESIGN.md §2).

Written by hand (it was 0009 before issue 14 regenerated every migration from scratch): on a
new database it finds nothing to change; tests/appointments/test_care_grant_migration.py
runs it on rows written the old way.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

CARE_AFTER_VISIT = dt.timedelta(days=7)  # appointments.services.booking.CARE_AFTER_VISIT


def forwards(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    CareRelationship = apps.get_model("records", "CareRelationship")
    ContentType = apps.get_model("contenttypes", "ContentType")
    now = timezone.now()
    kind, _ = ContentType.objects.get_or_create(app_label="appointments", model="appointment")
    live = (
        Appointment.objects.exclude(status="cancelled")
        .filter(slot__end__gt=now - CARE_AFTER_VISIT, slot__doctor__user__isnull=False)
        .select_related("slot__doctor")
    )
    for appointment in live.iterator():
        own = CareRelationship.objects.filter(
            source_type=kind,
            source_id=str(appointment.pk),
            revoked_at__isnull=True,
            ends_at__gt=now,
        )
        if not own.exists():
            CareRelationship.objects.create(
                patient_id=appointment.patient_id,
                user_id=appointment.slot.doctor.user_id,
                reason="booking",
                starts_at=now,
                ends_at=appointment.slot.end + CARE_AFTER_VISIT,
                source_type=kind,
                source_id=str(appointment.pk),
                source_label=appointment.code,
            )
    # Live grants are few (a week past each visit); the cancelled appointments are many.
    grants = CareRelationship.objects.filter(
        source_type=kind, revoked_at__isnull=True, ends_at__gt=now
    ).values_list("pk", "source_id")
    by_appointment: dict[int, list[int]] = {}
    for pk, source_id in grants:
        if source_id.isdigit():
            by_appointment.setdefault(int(source_id), []).append(pk)
    cancelled = Appointment.objects.filter(
        pk__in=list(by_appointment), status="cancelled"
    ).values_list("pk", flat=True)
    ended = [grant for pk in cancelled for grant in by_appointment[pk]]
    CareRelationship.objects.filter(pk__in=ended).update(revoked_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("records", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
