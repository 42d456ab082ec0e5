"""Consults: one Consultation per online appointment, and the chat said in it (DESIGN.md §3)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

CHAT_MAX_CHARS = 2000


class Consultation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        WAITING = "waiting", _("patient waiting")
        LIVE = "live", _("live")
        ENDED = "ended", _("ended")

    class Outcome(models.TextChoices):
        NONE = "", _("not decided yet")
        COMPLETED = "completed", _("completed")
        COMPLETED_BY_CHAT = "completed_by_chat", _("completed by chat")
        PATIENT_NO_SHOW = "patient_no_show", _("the patient did not join")
        DOCTOR_NO_SHOW = "doctor_no_show", _("the doctor did not start the consult")
        NOT_CONNECTED = "not_connected", _("the video never connected")
        CANCELLED = "cancelled", _("appointment cancelled")

    appointment = models.OneToOneField(
        "appointments.Appointment",
        on_delete=models.CASCADE,
        related_name="consultation",
        verbose_name=_("appointment"),
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=9, choices=Status.choices, default=Status.SCHEDULED
    )
    opens_at = models.DateTimeField(_("room opens"))
    closes_at = models.DateTimeField(_("room closes"))
    patient_joined_at = models.DateTimeField(_("patient joined"), null=True, blank=True)
    patient_joined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("joined for the patient"),
    )
    doctor_joined_at = models.DateTimeField(_("doctor joined"), null=True, blank=True)
    admitted_at = models.DateTimeField(_("admitted"), null=True, blank=True)
    video_connected_at = models.DateTimeField(_("video connected"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    # A remote consultation (远程会诊): the clinic doctor who called the specialist in during
    # their visit, the question asked, and whether the patient joins from their own device
    # (at home) or sits with the clinic doctor. Empty for a two-person online consult.
    gp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinic doctor"),
    )
    requested_in = models.ForeignKey(
        "records.Encounter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asked during the visit"),
    )
    question = models.TextField(_("question for the specialist"), blank=True, max_length=4000)
    patient_invited = models.BooleanField(_("the patient joins from their device"), default=False)
    gp_joined_at = models.DateTimeField(_("clinic doctor joined"), null=True, blank=True)
    # When the patient's people were told that the room is open (telemedicine.opening): at most
    # once, by the beat that claims the rooms opening now.
    opening_told_at = models.DateTimeField(_("told the room is open"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        indexes = [
            models.Index(fields=["status", "closes_at"], name="consult_status_closes"),
            # The rooms whose people are not told yet: the beat's claim walks only these.
            models.Index(
                fields=["opens_at"],
                condition=models.Q(opening_told_at=None),
                name="consult_opening_untold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.get_status_display()})"

    @property
    def is_remote(self) -> bool:
        return self.gp_id is not None

    @property
    def is_ended(self) -> bool:
        return self.status == self.Status.ENDED

    def is_open(self, *, now) -> bool:
        return not self.is_ended and self.opens_at <= now < self.closes_at


class ChatMessage(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("message"), max_length=CHAT_MAX_CHARS)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["consultation", "created_at"], name="chat_consult_time")]

    def __str__(self) -> str:
        return self.text[:40]
