"""iCalendar (RFC 5545, with RFC 5546 methods): patients' appointments (one event, or the
personal feed) and a doctor's sessions feed. Rendering only, not a service.

An appointment's event names the doctor and the hospital and says where (or links the
appointment page for an online consult); it never carries the visit reason, a diagnosis or an ID
number. A session's event carries no patient at all."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText
from icalendar.parser import Contentline

from appointments.models import Appointment, Mode
from appointments.selectors.sessions import doctor_sessions
from hospitals.models import Doctor

PRODID = "-//Cloud Hospital//Appointments//EN"
ALARM_BEFORE = dt.timedelta(hours=1)


def appointment_uid(appointment: Appointment) -> str:
    """Stable across every change (reschedules keep their own code, and so their own UID)."""
    return f"appointment-{appointment.code}@{settings.SITE_DOMAIN}"


def appointment_url(appointment: Appointment) -> str:
    return f"{settings.SITE_URL}{reverse('appointment_detail', args=[appointment.code])}"


def consult_room_url(appointment: Appointment) -> str | None:
    """The online consult's room (telemedicine adds `appointment.consultation`; appointments
    never imports it)."""
    consultation = getattr(appointment, "consultation", None)
    if consultation is None:
        return None
    return f"{settings.SITE_URL}/consult/{consultation.public_id}/"


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address or 'noreply@' + settings.SITE_DOMAIN}")
    organizer.params["cn"] = vText(name or _("Cloud Hospital"))
    return organizer


# Inside `names_remembered()`: (model, pk, attribute) -> both names, for a job that snapshots
# many appointments of the same few doctors and sites (a reminder batch).
_NAMES: ContextVar[dict | None] = ContextVar("appointment_names", default=None)


@contextmanager
def names_remembered() -> Iterator[None]:
    """Within the block, each object's bilingual name is worked out once (two translation
    switches per name were a fifth of a reminder's cost in bench/reminders.py)."""
    token = _NAMES.set({})
    try:
        yield
    finally:
        _NAMES.reset(token)


def both_languages(obj, attribute: str = "display_name") -> dict[str, str]:
    """A bilingual name as a message snapshot keeps it: the reader's language picks one."""
    memo = _NAMES.get()
    key = (obj._meta.label, obj.pk, attribute) if memo is not None and obj.pk else None
    if key is not None and key in memo:
        return dict(memo[key])
    texts = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts[language] = str(getattr(obj, attribute) or "")
    if key is not None:
        memo[key] = dict(texts)
    return texts


def appointment_facts(appointment: Appointment) -> dict:
    """What an appointment's calendar event says, as plain JSON (a message snapshot keeps it,
    and the worker builds the .ics from it without reading the database)."""
    slot = appointment.slot
    room = consult_room_url(appointment) if slot.mode == Mode.ONLINE else None
    return {
        "code": appointment.code,
        "sequence": appointment.sequence,
        "start_at": slot.start.isoformat(),
        "end_at": slot.end.isoformat(),
        "tz": slot.site.timezone,
        "online": slot.mode == Mode.ONLINE,
        "doctor": both_languages(slot.doctor),
        "site": both_languages(slot.site),
        "address": both_languages(slot.site, "display_address"),
        "room": room or "",
        "cancelled": appointment.status == Appointment.Status.CANCELLED,
    }


def _pick(texts: dict[str, str]) -> str:
    language = translation.get_language() or ""
    return (texts.get("en") if language.startswith("en") else None) or texts.get("zh-hans", "")


def event_from_facts(facts: dict, *, now: dt.datetime, attendee_email: str = "") -> Event:
    zone = ZoneInfo(facts["tz"])
    cancelled = facts["cancelled"]
    event = Event()
    event.add("uid", f"appointment-{facts['code']}@{settings.SITE_DOMAIN}")
    event.add("sequence", facts["sequence"])
    event.add("dtstamp", now)
    # Local times with the hospital's TZID; the calendar carries the matching VTIMEZONE.
    event.add("dtstart", dt.datetime.fromisoformat(facts["start_at"]).astimezone(zone))
    event.add("dtend", dt.datetime.fromisoformat(facts["end_at"]).astimezone(zone))
    if facts["online"]:
        summary = _("Online consult with %(doctor)s · %(hospital)s")
    else:
        summary = _("Appointment with %(doctor)s · %(hospital)s")
    site = _pick(facts["site"])
    title = summary % {"doctor": _pick(facts["doctor"]), "hospital": site}
    event.add("summary", title)
    url = f"{settings.SITE_URL}{reverse('appointment_detail', args=[facts['code']])}"
    if facts["online"]:
        event.add("location", facts["room"] or url)
    else:
        event.add("location", _pick(facts["address"]) or site)
    event.add("url", url)
    event.add(
        "description",
        _("Appointment code %(code)s. Details and changes: %(url)s")
        % {"code": facts["code"], "url": url},
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer())
    if attendee_email:
        attendee = vCalAddress(f"mailto:{attendee_email}")
        attendee.params["partstat"] = vText("ACCEPTED")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", -ALARM_BEFORE)
        alarm.add("description", title)
        event.add_component(alarm)
    return event


def appointment_event(
    appointment: Appointment, *, now: dt.datetime, attendee_email: str = ""
) -> Event:
    return event_from_facts(appointment_facts(appointment), now=now, attendee_email=attendee_email)


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> bytes | None:
    """One zone's VTIMEZONE, built once per process. icalendar computes every transition from
    1970 to 2038 for it (about 35 ms), which was three quarters of the cost of each reminder."""
    try:
        return Timezone.from_tzid(tzid).to_ical()
    except ValueError:  # a zone icalendar does not know: left out, as add_missing_timezones does
        return None


# icalendar folds a content line once it reaches 75 octets (RFC 5545 §3.1).
FOLD_AT = 75


def _line(line: Contentline) -> bytes:
    """One content line as icalendar writes it, CRLF included. icalendar's folding encodes a
    line character by character, a fifth of a reminder's .ics; most lines are far shorter than
    a fold, and those are written as they are."""
    data = line.encode()
    return (data if len(data) < FOLD_AT else line.to_ical()) + b"\r\n"


def _to_ical(calendar: Calendar) -> bytes:
    """`calendar.to_ical()` with the VTIMEZONEs its events need, from the per-process cache,
    spliced in as bytes before the first event (parsing and re-serialising a cached VTIMEZONE
    for every reminder cost as much as the rest of the file)."""
    zones = b"".join(
        component
        for component in (_vtimezone(tzid) for tzid in sorted(calendar.get_missing_tzids()))
        if component is not None
    )
    text = b"".join(_line(line) for line in calendar.content_lines() if line)
    if not zones:
        return text
    at = text.find(b"BEGIN:VEVENT")
    if at == -1:
        at = text.rfind(b"END:VCALENDAR")
    return text[:at] + zones + text[at:]


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def appointment_ics(appointment: Appointment, *, attendee_email: str = "") -> bytes:
    """One appointment as an invitation: METHOD:REQUEST while it stands (new or changed, the
    SEQUENCE tells which is newer), METHOD:CANCEL once cancelled."""
    cancelled = appointment.status == Appointment.Status.CANCELLED
    calendar = _calendar("CANCEL" if cancelled else "REQUEST")
    calendar.add_component(
        appointment_event(appointment, now=timezone.now(), attendee_email=attendee_email)
    )
    return _to_ical(calendar)


def message_file_ics(spec: dict, language: str) -> str:
    """The .ics a message carries, built by the worker from the snapshot (registered with
    notifications.render as "appointment_ics"): METHOD:REQUEST or CANCEL as the spec says."""
    with translation.override(language):
        calendar = _calendar(spec.get("method", "REQUEST"))
        calendar.add_component(
            event_from_facts(
                spec["event"], now=timezone.now(), attendee_email=spec.get("attendee", "")
            )
        )
        return _to_ical(calendar).decode()


def personal_feed_ics(appointments: Iterable[Appointment], *, language: str | None = None) -> bytes:
    """The personal subscription feed: a published calendar (no METHOD), cancelled
    appointments kept with STATUS:CANCELLED so subscribed calendars drop them."""
    with translation.override(language or translation.get_language()):
        calendar = _calendar(None)
        calendar.add("x-wr-calname", _("My appointments · Cloud Hospital"))
        now = timezone.now()
        for appointment in appointments:
            calendar.add_component(appointment_event(appointment, now=now))
        return _to_ical(calendar)


DOCTOR_FEED_PAST_DAYS = 7  # the doctor's sessions feed; the personal feed keeps a month
DOCTOR_FEED_FUTURE_DAYS = 60


def doctor_sessions_calendar(*, doctor: Doctor) -> bytes:
    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Cloud Hospital//Doctor sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Sessions of %(name)s") % {"name": doctor.display_name})
    sessions = doctor_sessions(
        doctor=doctor,
        start=now - dt.timedelta(days=DOCTOR_FEED_PAST_DAYS),
        end=now + dt.timedelta(days=DOCTOR_FEED_FUTURE_DAYS),
    )
    for session in sessions:
        event = Event()
        event.add("uid", f"doctor-{doctor.pk}-{session.start:%Y%m%dT%H%M%SZ}-{session.mode}@portal")
        event.add("dtstamp", now)
        event.add("dtstart", session.start)
        event.add("dtend", session.end)
        if session.mode == Mode.ONLINE:
            summary = _("Online consults · %(site)s") % {"site": session.site.display_name}
        else:
            summary = _("Clinic · %(site)s") % {"site": session.site.display_name}
        event.add("summary", summary)
        event.add("location", session.site.display_address or session.site.display_name)
        event.add(
            "description",
            _("%(booked)d of %(capacity)d places booked")
            % {
                "booked": session.booked + session.referral_booked,
                "capacity": session.capacity + session.referral_capacity,
            },
        )
        event.add("status", "CANCELLED" if session.closed else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
