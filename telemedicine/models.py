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


# --- Text consults (图文问诊, issue 20) ---------------------------------------------------------

TEXT_MAX_CHARS = 2000
TEXT_MAX_PHOTOS = 9


class TextConsultOffer(models.Model):
    """Whether a doctor takes text consults, what they cost (a note, not a payment) and how
    many may be opened with them a day. Edited by the doctor on /doctor/text-consults/settings/."""

    doctor = models.OneToOneField(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        related_name="text_consult_offer",
        verbose_name=_("doctor"),
    )
    is_open = models.BooleanField(_("I take text consults"), default=False)
    price_note = models.CharField(_("price note"), max_length=120, blank=True)
    daily_limit = models.PositiveSmallIntegerField(_("consults a day at most"), default=10)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("text consult offer")
        verbose_name_plural = _("text consult offers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(daily_limit__gte=1, daily_limit__lte=200),
                name="text_offer_daily_limit_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.doctor_id}: {'open' if self.is_open else 'closed'} ({self.daily_limit}/day)"


class TextConsult(models.Model):
    """One question by text (and photos) to one doctor about one person, and its thread. It is
    an Encounter of mode `text` in the person's record (the thread's address is the encounter's
    public id). It closes when the doctor closes it, or on its own at `closes_at`: 24 h after it
    was opened while the doctor has not answered ("not answered — no fee"), then 48 h after the
    doctor's last message."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    class Outcome(models.TextChoices):
        NONE = "", _("not decided yet")
        CLOSED_BY_DOCTOR = "doctor", _("closed by the doctor")
        ANSWERED = "answered", _("answered, closed on its own")
        UNANSWERED = "unanswered", _("not answered — no fee")

    class BookMode(models.TextChoices):
        NONE = "", _("no visit asked")
        ONLINE = "online", _("a video visit")
        IN_PERSON = "in_person", _("an in-person visit")

    encounter = models.OneToOneField(
        "records.Encounter",
        on_delete=models.PROTECT,
        related_name="text_consult",
        verbose_name=_("encounter"),
    )
    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.PROTECT,
        related_name="text_consults",
        verbose_name=_("doctor"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.CharField(_("question"), max_length=140)
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    book_mode = models.CharField(
        _("visit asked"), max_length=9, choices=BookMode.choices, default="", blank=True
    )
    price_note = models.CharField(_("price note"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("asked"))
    doctor_answered_at = models.DateTimeField(_("last doctor message"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes on its own"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("text consult")
        verbose_name_plural = _("text consults")
        indexes = [
            models.Index(fields=["doctor", "status", "created_at"], name="textconsult_queue"),
            models.Index(fields=["status", "closes_at"], name="textconsult_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False),
                name="textconsult_closed_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.summary[:40]} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def public_id(self):
        return self.encounter.public_id


class TextConsultMessage(models.Model):
    consult = models.ForeignKey(TextConsult, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_doctor = models.BooleanField(default=False)
    text = models.TextField(_("message"), max_length=TEXT_MAX_CHARS, blank=True)
    # Set on the doctor's "please book" message: the family's one-click link to the periods.
    book_mode = models.CharField(
        _("visit asked"), max_length=9, choices=TextConsult.BookMode.choices, blank=True
    )
    photos = models.ManyToManyField("records.Attachment", blank=True, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("text consult message")
        verbose_name_plural = _("text consult messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["consult", "created_at"], name="textmsg_consult_time")]

    def __str__(self) -> str:
        return self.text[:40]
