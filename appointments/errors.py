"""Every refusal of the appointments app: the typed `BookingRefused` family, raised by the
booking checks (policies.py) and by the services that hold, book, cancel, move along the status
machine, queue and wait; and `OfferRefused` for a stopped clinic's rebooking offer.

A `BookingRefused` has a stable `code` for APIs and a `message`, the human sentence, translated
when it is read (so a page shows it in the reader's language)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from hospitals.when import format_day, format_when


def _render(template: Any, params: dict[str, Any]) -> str:
    text = str(template)
    rendered = {}
    for key, value in params.items():
        if isinstance(value, dt.datetime):
            value = format_when(value)  # `12月2日 周三 14:00` / `Wed 2 Dec, 14:00`
        elif isinstance(value, dt.date):
            value = format_day(value)
        rendered[key] = value
    return text % rendered if rendered else text


_render_lazy = lazy(_render, str)


class BookingRefused(Exception):
    """A booking (or hold, cancel, status change) the rules refuse. `code` is stable for APIs;
    `message` is the human sentence, translated when read."""

    code = "refused"
    template = _("This time cannot be booked.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.message = _render_lazy(self.template, params)
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message)


class SlotFull(BookingRefused):
    code = "slot_full"
    template = _("This time is fully booked. Choose another time or join its waiting list.")


class ReferralPlacesFull(SlotFull):
    code = "slot_full"
    template = _("Every referral place of this time is taken. Choose another time.")


class NotReleasedYet(BookingRefused):
    code = "not_released"
    template = _("This time opens for booking at %(opens_at)s.")


class SlotStarted(BookingRefused):
    code = "started"
    template = _("This time has already begun and can no longer be booked.")


class SlotClosed(BookingRefused):
    code = "closed"
    template = _("The clinic is closed at this time; it cannot be booked.")


class RemoteForStaff(BookingRefused):
    code = "remote_for_staff"
    template = _("A remote consultation is booked by the clinic doctor during the patient's visit.")


class NotOnVisit(BookingRefused):
    code = "not_on_visit"
    template = _(
        "A remote consultation is booked during a visit of yours that is still going on, for "
        "the patient of that visit."
    )


class PatientNotLinked(BookingRefused):
    code = "not_linked"
    template = _("Your account may not book for this person.")


class ConsentMissing(BookingRefused):
    code = "consent_missing"
    template = _(
        "Booking needs this person's consent to the processing of their ID and health data. "
        "Give it on their page first."
    )


class AlreadyBooked(BookingRefused):
    code = "already_booked"
    template = _("This person already has an appointment at this time.")


class Overlapping(BookingRefused):
    code = "overlapping"
    template = _("This person already has an appointment that overlaps this time (%(code)s).")


class SameDoctorSession(BookingRefused):
    code = "same_doctor_session"
    template = _("This person already has an appointment in this doctor's session.")


class SameDepartmentDay(BookingRefused):
    code = "same_department_day"
    template = _("This person already has an appointment in this department on that day.")


class MonthlyCapAccount(BookingRefused):
    code = "monthly_cap_account"
    template = _("Your account has made %(cap)d bookings this month, the most allowed.")


class MonthlyCapPhone(BookingRefused):
    code = "monthly_cap_phone"
    template = _(
        "Your phone number has been used for %(cap)d bookings this month, the most allowed."
    )


class NotEligibleAge(BookingRefused):
    code = "not_eligible_age"
    template = _("This department sees patients aged %(range)s only.")


class NotEligibleSex(BookingRefused):
    code = "not_eligible_sex"
    template = _("This department sees %(sex)s patients only.")


class NoShowBlocked(BookingRefused):
    code = "no_show_blocked"
    template = _(
        "This person missed %(count)d appointments in 90 days and may book again from %(until)s."
    )


class ReferralUnusable(BookingRefused):
    code = "referral_unusable"
    template = _("This referral cannot be used for this time: %(why)s.")


class HoldExpired(BookingRefused):
    code = "hold_expired"
    template = _("Your hold on this time ran out and the place has gone. Choose another time.")


class HoldNotYours(BookingRefused):
    code = "hold_not_yours"
    template = _("This hold belongs to another booking.")


class CancelTooLate(BookingRefused):
    code = "cancel_too_late"
    template = _(
        "Appointments can be cancelled until %(hours)d hours before they start. "
        "Please call the hospital."
    )


class IllegalTransition(BookingRefused):
    code = "illegal_transition"
    template = _("An appointment that is %(old)s cannot become %(new)s.")


class NotOnTheDay(BookingRefused):
    code = "not_on_the_day"
    template = _("Check-in opens on the day of the appointment.")


class OnlineNoDesk(BookingRefused):
    code = "online_no_desk"
    template = _(
        "This is an online consultation: the patient joins it from their phone or computer, "
        "not at the desk."
    )


class CalledMeanwhile(BookingRefused):
    code = "called_meanwhile"
    template = _(
        "%(number)s was just called (a second click, or another screen). Press Call next again "
        "to call the next patient."
    )


class NoShowTooEarly(BookingRefused):
    code = "too_early"
    template = _("An appointment can be marked as missed only once it has begun.")


class PlacesLeft(BookingRefused):
    code = "places_left"
    template = _("This time still has places: book it instead of waiting.")


class AlreadyWaiting(BookingRefused):
    code = "already_waiting"
    template = _("This person is already on this time's waiting list.")


class OfferRefused(Exception):
    """The offer cannot be taken; `message` says why, for the person holding it."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class TooManyHolds(BookingRefused):
    code = "too_many_holds"
    template = _(
        "You opened too many booking pages in the last minute. Wait a minute, then open the "
        "time you want again."
    )
