"""Staff pages of the record: the read-only record of a person a doctor may read
(/doctor/record/<person>/), emergency access (/doctor/emergency/), and a doctor's files added to
their own open encounter. Access always comes from records.access; anyone without it gets a
404, and every read is audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import audit_record
from records import attachments, selectors
from records.access import (
    break_glass_open,
    doctor_hospital_ids,
    record_access_or_404,
    record_read_audit,
)
from records.forms import AttachmentForm, BreakGlassFindForm, BreakGlassOpenForm
from records.models import Encounter, Patient
from records.selectors_record import record_timeline
from records.selectors_results import exams_visible

BREAK_GLASS_SALT = "records.break_glass"
BREAK_GLASS_TOKEN_SECONDS = 15 * 60
NO_MATCH = _("No person matches this ID number and name. Check both against the ID card.")


def _doctor_or_404(request: HttpRequest) -> frozenset[int]:
    hospital_ids = doctor_hospital_ids(request.user)
    if not hospital_ids:
        raise Http404
    return hospital_ids


def shown_to_staff(timeline, user) -> None:
    """Signed notes and prescriptions, plus the reader's own drafts (marked as drafts)."""
    for encounter in timeline.encounters:
        encounter.shown_notes = [
            note for note in encounter.notes.all() if note.is_signed or note.author_id == user.pk
        ]
        encounter.shown_prescriptions = [
            rx
            for rx in encounter.prescriptions.all()
            if rx.signed_at or rx.prescriber_id == user.pk
        ]
        encounter.shown_attachments = []
        encounter.may_attach = encounter.is_open and encounter.doctor.user_id == user.pk
    by_encounter = {encounter.pk: encounter for encounter in timeline.encounters}
    timeline.loose_attachments = []
    for attachment in timeline.attachments:
        encounter = by_encounter.get(attachment.encounter_id)
        target = encounter.shown_attachments if encounter else timeline.loose_attachments
        target.append(attachment)


@never_cache
@login_required
@require_GET
def staff_record(request: HttpRequest, public_id) -> HttpResponse:
    access = record_access_or_404(user=request.user, patient_public_id=public_id)
    if not access.is_staff_read:
        raise Http404  # the family reads the record at /me/record/
    timeline = record_timeline(access=access)
    shown_to_staff(timeline, request.user)
    referrals = list(
        access.filter(selectors.referrals_of_patient(patient=access.patient), "encounter__hospital")
    )
    now = timezone.now()
    for referral in referrals:
        referral.is_valid = referral.is_usable(now=now)
    record_read_audit(access=access, what="record")
    return render(
        request,
        "records/staff_record.html",
        {
            "access": access,
            "patient": access.patient,
            "timeline": timeline,
            "referrals": referrals,
            "exams": exams_visible(access=access, final_only=False),
            "form": AttachmentForm(),
            "max_mb": attachments.max_bytes() // (1024 * 1024),
        },
    )


@login_required
@require_POST
def encounter_attachment_add(request: HttpRequest, public_id) -> HttpResponse:
    """The encounter's own doctor adds a file while it is open; anyone else: 404."""
    encounter = (
        Encounter.objects.select_related("doctor", "hospital", "patient")
        .filter(public_id=public_id, doctor__user=request.user)
        .first()
    )
    if encounter is None:
        raise Http404
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachments.attachment_add_to_encounter(
                encounter=encounter,
                doctor_account=request.user,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as refusal:
            messages.error(request, refusal.messages[0])
        else:
            messages.success(request, _("The file has been added to the encounter."))
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect("staff_record", public_id=encounter.patient.public_id)


def _patient_from_token(token: str) -> Patient | None:
    """The person a search of the last few minutes found, or None when the token is stale."""
    try:
        public_id = signing.loads(token, salt=BREAK_GLASS_SALT, max_age=BREAK_GLASS_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    return Patient.objects.filter(public_id=public_id).first()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    """Emergency access: find the person by ID number and name, type why, confirm."""
    _doctor_or_404(request)
    step = request.POST.get("step") if request.method == "POST" else None
    find_form = BreakGlassFindForm(request.POST if step == "find" else None)
    open_form = None
    patient = None
    error = None
    if step == "find" and find_form.is_valid():
        patient = selectors.patient_by_identity(**find_form.cleaned_data)
        # Searches are audited too: many misses by one account are worth a look.
        audit_record(
            actor=request.user,
            action="record.break_glass_search",
            target=patient,
            result="success" if patient else "denied",
        )
        if patient is None:
            error = NO_MATCH
            # The typed ID number is never echoed back into the page.
            find_form = BreakGlassFindForm(initial={"name": find_form.cleaned_data["name"]})
        else:
            token = signing.dumps(str(patient.public_id), salt=BREAK_GLASS_SALT)
            open_form = BreakGlassOpenForm(initial={"token": token})
    elif step == "open":
        open_form = BreakGlassOpenForm(request.POST)
        patient = _patient_from_token(request.POST.get("token", ""))
        if patient is None:
            open_form, error = None, _("The search is too old. Find the person again.")
        elif open_form.is_valid():
            try:
                break_glass_open(
                    user=request.user,
                    patient=patient,
                    reason=open_form.cleaned_data["reason"],
                )
            except ValidationError as refusal:
                open_form.add_error("reason", refusal)
            else:
                messages.warning(
                    request,
                    _("Emergency access is open for 24 hours. The patient's family has been told."),
                )
                return redirect("staff_record", public_id=patient.public_id)
    return render(
        request,
        "records/break_glass.html",
        {"find_form": find_form, "open_form": open_form, "patient": patient, "error": error},
        status=400 if error else 200,
    )
