"""A release rush's usual POST, answered before the session or the account is read (issue 16).

Most POSTs of a rush ask for a period that is already full. The booking page answers them
from a read with no lock and no write (appointments.views.booking), but through the whole
middleware: the session, the account and its roles, the page in the site's shell. That cost
about twice a no-op POST, so one hot slot's 300 requests a second queued behind each other.
Once a slot is full (the commit that took its last place, or a request that found it full),
it is remembered in the cache for a moment (appointments.selectors.sold_out:
`sold_out_remember`, forgotten at the commit that gives a place back), and this middleware
answers the next POSTs for it with a short page (appointments.views.sold_out_early): the
refusal, the waiting list one tap away (the confirmation page, which offers it with the
people to choose from), another time. It reads one cache entry and nothing else, and writes
nothing. It steps aside for a form that held a place (`held`), named a referral, or whose key
already booked (that submit lands on its appointment), and whenever the cache is unreachable.
It says nothing a visitor could not read on the doctor's page."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from appointments.selectors.sold_out import sold_out_early
from appointments.views.sold_out_early import sold_out_early_page

BOOKING_POST = re.compile(r"^/appointments/book/(\d+)/$")


class SoldOutEarlyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            match = BOOKING_POST.match(request.path_info)
            if match is not None:
                answer = self._early(request, int(match[1]))
                if answer is not None:
                    return answer
        return self.get_response(request)

    @staticmethod
    def _early(request: HttpRequest, slot_id: int) -> HttpResponse | None:
        post = request.POST
        if post.get("held") or post.get("referral"):
            return None
        try:
            doctor_id, booked = sold_out_early(slot_id=slot_id, key=post.get("key", ""))
        except Exception:  # the cache is only a shortcut: the page itself still answers
            return None
        if booked is not None:
            return redirect("appointment_detail", booked)
        if doctor_id is None:
            return None
        return HttpResponse(sold_out_early_page(slot_id=slot_id, doctor_id=doctor_id))
