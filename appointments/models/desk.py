"""The front desk's queue of a doctor for a day."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeskQueue(models.Model):
    """One doctor's queue at one site on one local day. Check-in hands out its numbers
    (A001, A002, …) with one upsert of `last_number` (appointments/services/queue.py), so two desks
    checking in at once never give out the same number."""

    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        related_name="desk_queues",
        verbose_name=_("doctor"),
    )
    site = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.CASCADE,
        related_name="desk_queues",
        verbose_name=_("site"),
    )
    day = models.DateField(_("day"))
    # Tells the doctors of one site apart on the waiting-room display: A…, B…
    letter = models.CharField(_("letter"), max_length=2)
    last_number = models.PositiveIntegerField(_("last number given"), default=0)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "site", "day"], name="desk_queue_one_a_day"),
        ]
        indexes = [models.Index(fields=["site", "day"], name="desk_queue_site_day")]

    def __str__(self) -> str:
        return f"{self.letter} {self.doctor_id} {self.day}"

    def label(self, number: int) -> str:
        return f"{self.letter}{number:03d}"
