"""What search reads instead of the slot table: each doctor's next free period per mode."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from appointments.models.rota import Mode


class NextFreePeriod(models.Model):
    """A doctor's next bookable public period in one mode, as of `computed_at`, exact until
    `valid_until` (when that period starts, or an earlier period becomes bookable by its
    release or the merge of unused referral places; null: until a write changes the slots).

    Written only by appointments.services.next_free (after every change of a slot's places,
    closures and rota publishes, and by a beat task when `valid_until` passes). Search reads
    the rows still valid and works out the others from the slots in the same query, so a late
    refresh makes search slower, never wrong.

    `district` mirrors the doctor's hospital's, so "online in a district" is one range of
    `next_free_mode_district_idx`; it is written by the refresh and moved by
    `next_free_periods_district_follow` when a hospital's district or a doctor's hospital
    changes (appointments.receivers)."""

    doctor = models.ForeignKey("hospitals.Doctor", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=9, choices=Mode.choices)
    start = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    # hospitals.Hospital.district of the doctor's hospital ("" for none, as there).
    district = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["doctor", "mode"], name="next_free_doctor_mode"),
        ]
        indexes = [
            # Search reads the soonest rows in order of (start, doctor): the order it chooses
            # the soonest doctors in (appointments.selectors.search_sql.exact_rows).
            models.Index(
                fields=["start", "doctor"],
                name="next_free_start_idx",
                condition=Q(start__isnull=False),
            ),
            models.Index(fields=["valid_until"], name="next_free_valid_until_idx"),
            # A search in a district (with a mode) reads the soonest rows as one range.
            models.Index(
                fields=["mode", "district", "start", "doctor"],
                name="next_free_mode_district_idx",
                condition=Q(start__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor_id} {self.mode} {self.start}"
