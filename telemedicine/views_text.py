"""Text consult pages (图文问诊): asking one, the thread (live, with a polling fallback), the
doctor's queue and their offer. A thread is addressed by its encounter's public id; anyone it
is not for gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.access import record_read_audit
from records.selectors import patients_for_account
from telemedicine.forms import TextOfferForm
from telemedicine.models import TEXT_MAX_PHOTOS
from telemedicine.selectors_text import (
    ThreadSeat,
    doctor_of_account,
    next_bookable_day,
    text_consult_seat,
    text_consults_of_family,
    text_offer_of,
    text_offer_open,
    text_photo,
    text_queue,
    text_recently_closed,
    text_thread,
)
from telemedicine.services_text import (
    TextConsultRefused,
    text_consult_ask_to_book,
    text_consult_close,
    text_consult_open,
    text_consult_reply,
    text_offer_update,
)

POLL_SECONDS = 20


def _seat_or_404(request: HttpRequest, public_id, *, audit: bool = True) -> ThreadSeat:
    """The account's seat in the thread, or a 404. A read by another doctor with record access
    is audited (not the page's own background refresh of what it already shows)."""
    seat = text_consult_seat(account=request.user, public_id=public_id)
    if seat is None:
        raise Http404
    if audit and seat.access is not None:
        record_read_audit(access=seat.access, what="text_consult", target=seat.consult)
    return seat


def _thread_context(seat: ThreadSeat) -> dict:
    consult = seat.consult
    thread = text_thread(consult=consult)
    book_days = {}
    for message in thread:
        if message.book_mode and message.book_mode not in book_days:
            book_days[message.book_mode] = next_bookable_day(
                doctor=consult.doctor, mode=message.book_mode
            )
        message.book_day = book_days.get(message.book_mode)
    return {
        "consult": consult,
        "seat": seat,
        "thread": thread,
        "poll_seconds": POLL_SECONDS,
        "max_photos": TEXT_MAX_PHOTOS,
    }


# --- The family -----------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def text_consult_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "telemedicine/text/list.html",
        {"consults": text_consults_of_family(account=request.user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def text_consult_new(request: HttpRequest, doctor_id: int) -> HttpResponse:
    """Ask the doctor a question about one of the account's people, with up to 9 photos."""
    offer = text_offer_open(doctor_id=doctor_id)
    if offer is None:
        raise Http404
    people = list(patients_for_account(account=request.user, can_book=True, can_read=True))
    error = ""
    chosen = request.POST.get("patient", "")
    question = request.POST.get("question", "")
    if request.method == "POST":
        person = next((p for p in people if str(p.public_id) == chosen), None)
        if person is None:
            error = _("Choose who the consult is about.")
        else:
            try:
                consult = text_consult_open(
                    patient=person,
                    doctor=offer.doctor,
                    by=request.user,
                    question=question,
                    photos=request.FILES.getlist("photos"),
                )
            except TextConsultRefused as refusal:
                error = str(refusal.message)
            else:
                messages.success(request, _("Your question was sent to the doctor."))
                return redirect("text_consult", public_id=consult.encounter.public_id)
    return render(
        request,
        "telemedicine/text/new.html",
        {
            "offer": offer,
            "doctor": offer.doctor,
            "people": people,
            "chosen": chosen,
            "question": question,
            "error": error,
            "max_photos": TEXT_MAX_PHOTOS,
        },
        status=400 if error else 200,
    )


# --- The thread -----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def text_consult_thread(request: HttpRequest, public_id) -> HttpResponse:
    """The thread and, for its doctor and the family while it is open, the reply form."""
    seat = _seat_or_404(request, public_id)
    error = ""
    if request.method == "POST":
        if not seat.may_write:
            error = str(TextConsultRefused.message)
        else:
            try:
                text_consult_reply(
                    consult=seat.consult,
                    by=request.user,
                    text=request.POST.get("text", ""),
                    photos=request.FILES.getlist("photos"),
                )
            except TextConsultRefused as refusal:
                error = str(refusal.message)
            else:
                return redirect(request.path)
        seat = _seat_or_404(request, public_id, audit=False)
    context = _thread_context(seat)
    context["error"] = error
    return render(request, "telemedicine/text/thread.html", context, status=400 if error else 200)


@never_cache
@login_required
@require_GET
def text_consult_thread_part(request: HttpRequest, public_id) -> HttpResponse:
    """The messages alone: the page fetches them when the socket says something changed, and
    every POLL_SECONDS where no push can arrive (DESIGN.md §5)."""
    seat = _seat_or_404(request, public_id, audit=False)
    return render(request, "telemedicine/text/includes/thread.html", _thread_context(seat))


@never_cache
@login_required
@require_GET
def text_consult_photo(request: HttpRequest, public_id, photo_id) -> HttpResponse:
    """A photo of the thread, shown inline (its bytes were re-encoded as JPEG or PNG)."""
    seat = _seat_or_404(request, public_id)
    photo = text_photo(consult=seat.consult, photo_id=photo_id)
    if photo is None:
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own (the thread links each photo), the browser shows it in its image viewer,
    # which styles the page inline: allowed here, where the only content is the re-encoded image.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _doctor_action(request: HttpRequest, public_id, action) -> HttpResponse:
    seat = _seat_or_404(request, public_id)
    if not seat.is_doctor:
        raise Http404
    try:
        action(seat.consult)
    except TextConsultRefused as refusal:
        messages.error(request, str(refusal.message))
    return redirect("text_consult", public_id=public_id)


@login_required
@require_POST
def text_consult_book(request: HttpRequest, public_id) -> HttpResponse:
    """The doctor asks the family to book a video or in-person visit."""
    mode = request.POST.get("mode", "")
    note = request.POST.get("text", "")
    return _doctor_action(
        request,
        public_id,
        lambda consult: text_consult_ask_to_book(
            consult=consult, by=request.user, mode=mode, text=note
        ),
    )


@login_required
@require_POST
def text_consult_close_view(request: HttpRequest, public_id) -> HttpResponse:
    return _doctor_action(
        request,
        public_id,
        lambda consult: text_consult_close(consult=consult, by=request.user),
    )


# --- The doctor -----------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def text_consult_queue(request: HttpRequest) -> HttpResponse:
    """The doctor's open text consults, oldest first, and the recently closed."""
    doctor = doctor_of_account(account=request.user)
    if doctor is None:
        raise Http404
    return render(
        request,
        "telemedicine/text/queue.html",
        {
            "doctor": doctor,
            "offer": text_offer_of(doctor=doctor),
            "queue": text_queue(doctor=doctor),
            "closed": text_recently_closed(doctor=doctor),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def text_offer_settings(request: HttpRequest) -> HttpResponse:
    doctor = doctor_of_account(account=request.user)
    if doctor is None:
        raise Http404
    offer = text_offer_of(doctor=doctor)
    initial = (
        {"is_open": offer.is_open, "price_note": offer.price_note, "daily_limit": offer.daily_limit}
        if offer
        else {"daily_limit": 10}
    )
    form = TextOfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            text_offer_update(doctor=doctor, by=request.user, **form.cleaned_data)
        except TextConsultRefused as refusal:
            form.add_error(None, str(refusal.message))
        else:
            messages.success(request, _("Saved."))
            return redirect(reverse("text_consult_queue"))
    return render(
        request,
        "telemedicine/text/settings.html",
        {"doctor": doctor, "form": form},
        status=400 if form.errors else 200,
    )
