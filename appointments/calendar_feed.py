"""iCalendar rendering of sessions. Sessions only: no patient, diagnosis or reason ever."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from appointments.models import Mode
from appointments.selectors.sessions import doctor_sessions
from hospitals.models import Doctor

FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 60


def doctor_sessions_calendar(*, doctor: Doctor) -> bytes:
    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//Cloud Hospital//Doctor sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Sessions of %(name)s") % {"name": doctor.display_name})
    sessions = doctor_sessions(
        doctor=doctor,
        start=now - dt.timedelta(days=FEED_PAST_DAYS),
        end=now + dt.timedelta(days=FEED_FUTURE_DAYS),
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
