"""The pages that change bookings: confirm (hold, then book), the waiting list, cancel and
reschedule (the desk's check-in is in views/desk.py). Each one calls one booking service; every
refusal is shown with its own message on the page it came from."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appointments.errors import BookingRefused, TooManyHolds
from appointments.forms.booking import ConfirmForm, RescheduleForm, WaitlistForm
from appointments.models import Appointment, Hold
from appointments.policies import check_eligibility
from appointments.selectors.appointments import (
    appointment_by_idempotency_key,
    appointment_in_slot_for_account,
    hold_live_for,
    people_to_book_for,
    person_to_book_for,
    referrals_usable_for,
)
from appointments.selectors.slots import reschedule_choices, slot_public
from appointments.selectors.sold_out import (
    booked_key_remember,
    slot_sold_out_refusal,
    sold_out_asker,
    sold_out_remember,
)
from appointments.services.booking import appointment_book
from appointments.services.holds import hold_create, hold_release
from appointments.services.status import appointment_cancel, appointment_reschedule
from appointments.services.waitlist import waitlist_join
from appointments.views.decorators import account_appointment
from appointments.views.sold_out_early import sold_out_early_page
from hospitals.when import format_day, format_when

FULL = "slot_full"


def _slot_or_404(slot_id: int):
    slot = slot_public(pk=slot_id)
    if slot is None:
        raise Http404
    return slot


def _chosen_referral(request: HttpRequest, referrals: list):
    wanted = request.POST.get("referral") or request.GET.get("referral") or ""
    if not wanted:
        return None
    for referral in referrals:
        if str(referral.public_id) == wanted:
            return referral
    raise Http404


def _eligible_first(people, slot, already):
    """The person the form starts with: one the department takes (paediatrics by age,
    gynaecology by sex) and who has no appointment in this slot yet."""
    for person in people:
        if already is not None and person.pk == already.patient_id:
            continue
        try:
            check_eligibility(patient=person, slot=slot)
        except BookingRefused:
            continue
        return person.pk
    return None


def _live_hold(*, account, slot) -> Hold | None:
    return hold_live_for(account=account, slot=slot)


def _done_before(request: HttpRequest, slot) -> Appointment | None:
    """What an earlier submit of this form (its idempotency key) booked in this slot."""
    done = appointment_by_idempotency_key(account=request.user, key=request.POST.get("key", ""))
    return done if done is not None and done.slot_id == slot.pk else None


def _sold_out(*, slot, referral) -> BookingRefused | None:
    """The refusal the slot's row (read by this request, unlocked) already gives, so a rush's
    sold-out requests never queue for the row lock and write nothing; None when the booking
    transaction must decide. Ask only without a live hold: a hold keeps its place."""
    return slot_sold_out_refusal(slot=slot, now=timezone.now(), referral=referral is not None)


def _sold_out_page(
    request: HttpRequest, *, slot, refusal: BookingRefused, people: list[tuple[int, str]]
) -> HttpResponse:
    """What a rush's usual POST gets: the refusal and the waiting-list offer, in the site's
    shell, without the booking form, the people it offers or the hospital's rules (issue 16).
    The offer's select is written by the template from (id, name) pairs: no form machinery."""
    return render(
        request,
        "appointments/sold_out.html",
        {"slot": slot, "site": slot.site, "refusal": refusal, "waitlist_people": people},
    )


@login_required
@require_http_methods(["GET", "POST"])
def appointment_confirm(request: HttpRequest, slot_id: int) -> HttpResponse:
    """GET takes a hold on the period and shows the form; POST books with that hold and the
    form's idempotency key."""
    slot = _slot_or_404(slot_id)
    user = request.user
    # Referral places are offered on the page; a POST reads them only when it names one or
    # the page is shown again.
    wanted = request.POST.get("referral") or request.GET.get("referral")
    if request.method == "POST" and wanted:
        # A retried submit lands on what the first one booked, even once its referral is used
        # (without a referral the booking itself finds the key, and so does a sold-out answer).
        done = _done_before(request, slot)
        if done is not None:
            return redirect(done)
    referrals = (
        referrals_usable_for(account=user, slot=slot) if request.method == "GET" or wanted else None
    )
    referral = _chosen_referral(request, referrals or [])
    refusal = None
    hold = None
    already = None
    chose = False
    early = _sold_out(slot=slot, referral=referral) if request.method == "POST" else None
    if early is not None and early.code == FULL and referral is None:
        # The slot's row as just read says no: no lock, no write. One read tells whether this
        # account holds a place there (a hold keeps it: the booking goes on), whether this
        # form's key already booked (a retried submit lands on it), and whom it may put on
        # the waiting list. The usual booking asks for its hold under the slot's lock.
        asker = sold_out_asker(
            account=user, slot=slot, now=timezone.now(), key=request.POST.get("key", "")
        )
        if asker.done_code is not None:
            return redirect("appointment_detail", asker.done_code)
        if not asker.held:
            # The next POSTs for this slot are answered before the session is read
            # (portal.sold_out_early) until a place is given back.
            sold_out_remember(slot=slot)
            return _sold_out_page(request, slot=slot, refusal=early, people=asker.people)
        early = None
    elif early is not None and _live_hold(account=user, slot=slot) is not None:
        early = None
    # A POST without a referral reads its chosen person by id (`lookup`): the people's
    # queryset is built only when the page is shown again (building it was a twentieth of the
    # web workers' CPU in bench/http_rush.py).
    people = None
    if request.method == "GET" or referral is not None:
        people = people_to_book_for(account=user)
    if referral is not None:
        people = people.filter(pk=referral.patient_id)
    if request.method == "POST":
        # The chosen person in one fixed read (a referral's page keeps the queryset: its
        # person only).
        lookup = None
        if referral is None:
            lookup = lambda pk: person_to_book_for(account=user, pk=pk)  # noqa: E731
        form = ConfirmForm(request.POST, patients=people, lookup=lookup)
        chose = form.is_valid()  # one of the people: the page need not ask whether any exist
        if chose:
            refusal = early
        if refusal is not None:
            form.add_error(None, refusal.message)
        elif chose:
            try:
                appointment = appointment_book(
                    patient=form.cleaned_data["patient"],
                    slot=slot,
                    booked_by=user,
                    hold=hold,
                    idempotency_key=form.cleaned_data["key"],
                    referral=referral,
                    visit_reason=form.cleaned_data["reason"].strip(),
                    # Under the slot's lock the booking finds a retried key (and a referral's
                    # was looked up above): no read of it before.
                    key_checked=True,
                )
            except BookingRefused as refused:
                if refused.code == FULL and referral is None:
                    # Found full under the lock (the read before let it through, as it does
                    # for the first seconds of a release): the short page, and the next POSTs
                    # are answered early, as after a read that finds it full.
                    sold_out_remember(slot=slot)
                    return HttpResponse(
                        sold_out_early_page(slot_id=slot.pk, doctor_id=slot.doctor_id)
                    )
                refusal = refused
                form.add_error(None, refused.message)
            else:
                # A retried submit of this form lands on this booking, even when the early
                # answer would call the slot full.
                booked_key_remember(key=form.cleaned_data["key"], code=appointment.code)
                messages.success(
                    request,
                    _("Booked. Your appointment code is %(code)s; a confirmation is on its way.")
                    % {"code": appointment.code},
                )
                return redirect(appointment)
    else:
        already = appointment_in_slot_for_account(account=user, slot=slot)
        form = ConfirmForm(
            initial={"key": uuid.uuid4().hex, "patient": _eligible_first(people, slot, already)},
            patients=people,
        )
        if people.exists() and already is None:
            refusal = _sold_out(slot=slot, referral=referral)
            if refusal is not None and refusal.code == FULL:
                # Reopening the page of the place this account holds renews that hold.
                refusal = None if _live_hold(account=user, slot=slot) else refusal
            if refusal is None:
                try:
                    hold = hold_create(slot=slot, account=user, referral=referral)
                except BookingRefused as refused:
                    refusal = refused
    if people is None:
        people = people_to_book_for(account=user)
        form.fields["patient"].queryset = people
    if referrals is None:
        referrals = referrals_usable_for(account=user, slot=slot)
    waitlist = None
    if refusal is not None and refusal.code == FULL and referral is None:
        waitlist = list(people_to_book_for(account=user).values_list("pk", "name"))
    site = slot.site
    return render(
        request,
        "appointments/confirm.html",
        {
            "slot": slot,
            "site": site,
            "form": form,
            "hold": hold if hold is not None and hold.is_live(now=timezone.now()) else None,
            "refusal": refusal,
            "waitlist": waitlist is not None,
            "waitlist_people": waitlist,
            "referral": referral,
            "referrals": [r for r in referrals if r != referral],
            "has_people": chose or people.exists(),
            "already": already,
            "cancel_until": slot.start - dt.timedelta(hours=site.cancellation_cutoff_hours),
        },
        status=429 if refusal is not None and refusal.code == TooManyHolds.code else 200,
    )


@login_required
@require_POST
def appointment_hold_release(request: HttpRequest, slot_id: int) -> HttpResponse:
    """ "Choose another time": give the held place back at once."""
    slot = _slot_or_404(slot_id)
    hold = _live_hold(account=request.user, slot=slot)
    if hold is not None:
        hold_release(hold=hold)
    return redirect("doctor_detail", pk=slot.doctor_id)


@login_required
@require_POST
def appointment_waitlist_join(request: HttpRequest, slot_id: int) -> HttpResponse:
    slot = _slot_or_404(slot_id)
    form = WaitlistForm(request.POST, patients=people_to_book_for(account=request.user))
    if not form.is_valid():
        messages.error(request, _("Choose one of the people you may book for."))
        return redirect("appointment_confirm", slot_id=slot.pk)
    try:
        waitlist_join(patient=form.cleaned_data["patient"], slot=slot, account=request.user)
    except BookingRefused as refused:
        messages.error(request, refused.message)
        return redirect("appointment_confirm", slot_id=slot.pk)
    messages.success(
        request,
        _(
            "%(name)s is on the waiting list. If a place frees, it is booked for them and you "
            "get an e-mail."
        )
        % {"name": form.cleaned_data["patient"].name},
    )
    return redirect("doctor_detail", pk=slot.doctor_id)


@account_appointment
@require_http_methods(["GET", "POST"])
def appointment_cancel_view(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """GET asks first (a page, so it works without JavaScript); POST cancels."""
    if request.method == "GET":
        if appointment.status != Appointment.Status.BOOKED:
            return redirect(appointment)
        site = appointment.slot.site
        return render(
            request,
            "appointments/cancel_confirm.html",
            {
                "appointment": appointment,
                "slot": appointment.slot,
                "cancel_until": appointment.slot.start
                - dt.timedelta(hours=site.cancellation_cutoff_hours),
                "now": timezone.now(),
            },
        )
    try:
        appointment_cancel(
            appointment=appointment, by=request.user, reason=Appointment.CancelReason.PATIENT
        )
    except BookingRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Appointment cancelled; the place is free for others."))
    return redirect(appointment)


def _period_label(slot, zone) -> str:
    start = timezone.localtime(slot.start, zone)
    end = timezone.localtime(slot.end, zone)
    return f"{format_when(start, zone=zone)}–{end:%H:%M} · ¥{slot.fee}"


@account_appointment
@require_http_methods(["GET", "POST"])
def appointment_reschedule_view(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    if appointment.status != Appointment.Status.BOOKED:
        raise Http404
    zone = appointment.slot.site.zone
    periods = reschedule_choices(appointment=appointment)
    choices = [(period.slot.pk, _period_label(period.slot, zone)) for period in periods]
    days: dict[str, list] = {}
    for period in periods:
        start = timezone.localtime(period.slot.start, zone)
        day = format_day(start.date())
        end = timezone.localtime(period.slot.end, zone)
        days.setdefault(day, []).append((period.slot.pk, f"{start:%H:%M}–{end:%H:%M}"))
    form = RescheduleForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        new_slot = next(p.slot for p in periods if p.slot.pk == form.cleaned_data["slot"])
        try:
            new = appointment_reschedule(
                appointment=appointment, new_slot=new_slot, by=request.user
            )
        except BookingRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                _("Moved. The new appointment code is %(code)s.") % {"code": new.code},
            )
            return redirect(new)
    return render(
        request,
        "appointments/reschedule.html",
        {
            "appointment": appointment,
            "slot": appointment.slot,
            "form": form,
            "days": list(days.items()),
        },
    )
