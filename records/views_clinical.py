"""The doctor's clinical workspace: the record beside the work, and its editors (issue 8).

The consult room and the visit page (telemedicine) include `records/clinical/workspace.html`
through `workspace_context(...)`. The editors post here; each answers with the workspace again
(htmx swaps it in place, so a live video call is never reloaded) or, without htmx, redirects
back to the page it came from.

Every door: the encounter's own doctor only, with a live care relationship; anyone else gets a
404 (a foreign encounter is never acknowledged). Every rendering of the record is a staff read
and writes `record_read_audit`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from hospitals.models import Department, Doctor, Hospital
from records.access import RecordAccess, record_access, record_read_audit
from records.errors import ClinicalRefused
from records.forms import return_paths
from records.models import Allergy, ClinicalNote, Drug, Encounter, Prescription, Problem
from records.selectors import is_encounter_doctor
from records.selectors_record import record_timeline
from records.services import history, notes, prescriptions, referrals

WORKSPACE_TEMPLATE = "records/clinical/workspace.html"


def _refusal_text(refusal: ValidationError) -> str:
    return " ".join(str(message) for message in refusal.messages)


def _page_path(request: HttpRequest) -> str:
    """The page the workspace sits on (the room or the visit page), where a post without
    htmx returns to; an htmx request names it in HX-Current-URL."""
    after = return_paths(request.POST).get("next")
    if after:
        return after
    current = request.headers.get("HX-Current-URL")
    if request.headers.get("HX-Request") == "true" and current:
        return urlsplit(current).path
    return request.path


def workspace_context(
    *,
    request: HttpRequest,
    access: RecordAccess,
    encounter: Encounter | None,
    refresh_url: str,
    error: str = "",
) -> dict[str, Any]:
    """What the workspace template needs: the record as `access` may see it (audited), and
    the editors when `encounter` is the reader's own. A fixed number of queries."""
    timeline = record_timeline(access=access)
    record_read_audit(access=access, what="record")
    own = encounter is not None and is_encounter_doctor(encounter=encounter, account=request.user)
    draft_note = draft_prescription = None
    current = None
    if own:
        for item in timeline.encounters:
            if item.pk == encounter.pk:
                current = item
        current = current or encounter
        if current.is_open:
            draft_note = next(
                (
                    n
                    for n in current.notes.all()
                    if not n.is_signed and n.author_id == request.user.pk
                ),
                None,
            )
            draft_prescription = next(
                (p for p in current.prescriptions.all() if p.signed_at is None), None
            )
    may_edit = own and current is not None and current.is_open
    # Unsaved note text travels with every editor's post (hx-include), so adding an allergy
    # or a refusal never wipes what the doctor was typing; a note just signed starts afresh.
    if (
        request.method == "POST"
        and "subjective" in request.POST
        and not getattr(request, "note_signed", False)
    ):
        note_values = {name: request.POST.get(name, "") for name in notes.NOTE_FIELDS}
    elif draft_note is not None:
        note_values = {name: getattr(draft_note, name) for name in notes.NOTE_FIELDS}
    else:
        note_values = dict.fromkeys(notes.NOTE_FIELDS, "")
    return {
        "access": access,
        "patient": access.patient,
        "timeline": timeline,
        "encounter": current,
        "may_edit": may_edit,
        "draft_note": draft_note,
        "note_values": note_values,
        "draft_prescription": draft_prescription,
        # What ending the visit now would leave unsigned (the consult room warns with it).
        "drafts": {
            "notes": [draft_note] if draft_note else [],
            "prescriptions": [draft_prescription] if draft_prescription else [],
        },
        "drugs": list(Drug.objects.filter(is_active=True)) if may_edit else [],
        "hospitals": list(Hospital.objects.filter(is_active=True)) if may_edit else [],
        "severities": Allergy.Severity.choices,
        "refresh_url": refresh_url,
        "next_url": _page_path(request),
        "error": error,
    }


def _own_encounter_or_404(request: HttpRequest, public_id) -> tuple[Encounter, RecordAccess]:
    encounter = (
        Encounter.objects.select_related("doctor", "patient", "hospital")
        .filter(public_id=public_id)
        .first()
    )
    if encounter is None or not is_encounter_doctor(encounter=encounter, account=request.user):
        raise Http404
    access = record_access(user=request.user, patient=encounter.patient)
    if not access.allowed:
        raise Http404
    return encounter, access


def _answer(
    request: HttpRequest,
    *,
    encounter: Encounter,
    access: RecordAccess,
    refusal: ValidationError | None = None,
) -> HttpResponse:
    """The workspace for htmx, else back to the page the form was on."""
    error = _refusal_text(refusal) if refusal is not None else ""
    paths = return_paths(request.POST)
    if request.headers.get("HX-Request") == "true":
        refresh = paths.get("refresh", "")
        context = workspace_context(
            request=request,
            access=access,
            encounter=encounter,
            refresh_url=refresh,
            error=error,
        )
        return render(request, WORKSPACE_TEMPLATE, {"ws": context})
    if error:
        messages.error(request, error)
    return redirect(paths.get("next", "/doctor/"))


def _post(func):
    """An editor door: signed in, POST only, the own encounter (else 404), refusals shown."""

    @login_required
    @never_cache
    @require_POST
    def view(request: HttpRequest, public_id, *args: Any, **kwargs: Any) -> HttpResponse:
        encounter, access = _own_encounter_or_404(request, public_id)
        try:
            func(request, encounter, *args, **kwargs)
        except ValidationError as refusal:
            return _answer(request, encounter=encounter, access=access, refusal=refusal)
        return _answer(request, encounter=encounter, access=access)

    view.__name__ = func.__name__
    view.__doc__ = func.__doc__
    return view


@_post
def note_save(request: HttpRequest, encounter: Encounter) -> None:
    note = None
    note_id = request.POST.get("note")
    if note_id:
        note = ClinicalNote.objects.filter(public_id=note_id, encounter=encounter).first()
        if note is None:
            raise Http404
    if request.POST.get("action") == "sign_only":
        # Signing a draft after the encounter closed: the text stays as it was saved.
        if note is None:
            raise Http404
        notes.note_sign(note=note, by=request.user)
        request.note_signed = True
        return
    fields = {name: request.POST.get(name, "") for name in notes.NOTE_FIELDS}
    note = notes.note_save(encounter=encounter, author=request.user, note=note, **fields)
    if request.POST.get("action") == "sign":
        notes.note_sign(note=note, by=request.user)
        request.note_signed = True


@_post
def note_addendum(request: HttpRequest, encounter: Encounter, note_id) -> None:
    # Any note of the patient the author may see; the service checks authorship.
    note = ClinicalNote.objects.filter(
        public_id=note_id, encounter__patient=encounter.patient, author=request.user
    ).first()
    if note is None:
        raise Http404
    notes.note_addendum_add(note=note, author=request.user, text=request.POST.get("text", ""))


def _items_from_post(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "drug": request.POST.get("drug") or None,
            "dose": request.POST.get("dose", ""),
            "frequency": request.POST.get("frequency", ""),
            "days": request.POST.get("days"),
            "quantity": request.POST.get("quantity"),
        }
    ]


def _items_of(prescription: Prescription) -> list[dict[str, Any]]:
    return [
        {
            "drug": item.drug,
            "dose": item.dose,
            "frequency": item.frequency,
            "days": item.days,
            "quantity": item.quantity,
        }
        for item in prescription.items.select_related("drug")
    ]


def _draft_prescription(request: HttpRequest, encounter: Encounter) -> Prescription | None:
    public_id = request.POST.get("prescription")
    if not public_id:
        return None
    prescription = Prescription.objects.filter(public_id=public_id, encounter=encounter).first()
    if prescription is None:
        raise Http404
    return prescription


@_post
def prescription_edit(request: HttpRequest, encounter: Encounter) -> None:
    """Add an item, remove one (`remove` = its position), or sign the draft."""
    prescription = _draft_prescription(request, encounter)
    action = request.POST.get("action", "add")
    if action == "sign":
        if prescription is None:
            raise Http404
        prescriptions.prescription_sign(prescription=prescription, by=request.user)
        return
    items = _items_of(prescription) if prescription is not None else []
    if action == "remove":
        try:
            del items[int(request.POST.get("remove", ""))]
        except (ValueError, IndexError):
            raise Http404 from None
        if not items:
            raise ClinicalRefused(
                gettext("A prescription keeps at least one drug; add another before removing it."),
                code="empty",
            )
    else:
        items += _items_from_post(request)
    prescriptions.prescription_save(
        encounter=encounter, prescriber=request.user, items=items, prescription=prescription
    )


@_post
def allergy_add(request: HttpRequest, encounter: Encounter) -> None:
    history.allergy_add(
        encounter=encounter,
        by=request.user,
        substance=request.POST.get("substance", ""),
        reaction=request.POST.get("reaction", ""),
        severity=request.POST.get("severity", ""),
    )


def _visible_or_404(encounter: Encounter, model, public_id, request: HttpRequest):
    access = record_access(user=request.user, patient=encounter.patient)
    row = access.filter(model.objects.filter(public_id=public_id, patient=encounter.patient))
    row = row.first()
    if row is None:
        raise Http404
    return row


@_post
def allergy_remove(request: HttpRequest, encounter: Encounter, item_id) -> None:
    allergy = _visible_or_404(encounter, Allergy, item_id, request)
    history.allergy_remove(allergy=allergy, encounter=encounter, by=request.user)


@_post
def problem_add(request: HttpRequest, encounter: Encounter) -> None:
    history.problem_add(
        encounter=encounter,
        by=request.user,
        description=request.POST.get("description", ""),
        icd10_code=request.POST.get("icd10_code", ""),
    )


@_post
def problem_resolve(request: HttpRequest, encounter: Encounter, item_id) -> None:
    problem = _visible_or_404(encounter, Problem, item_id, request)
    history.problem_resolve(problem=problem, encounter=encounter, by=request.user)


def _pk_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@_post
def referral_issue(request: HttpRequest, encounter: Encounter) -> None:
    hospital = Hospital.objects.filter(
        pk=_pk_or_none(request.POST.get("to_hospital")), is_active=True
    ).first()
    if hospital is None:
        raise ClinicalRefused(
            gettext("Choose the hospital or clinic you refer to."), code="hospital"
        )
    department = Department.objects.filter(
        pk=_pk_or_none(request.POST.get("to_department")), is_active=True
    ).first()
    doctor = Doctor.objects.filter(
        pk=_pk_or_none(request.POST.get("to_doctor")), is_active=True
    ).first()
    referrals.referral_issue(
        encounter=encounter,
        by=request.user,
        to_hospital=hospital,
        to_department=department,
        to_doctor=doctor,
        reason=request.POST.get("reason", ""),
    )


@login_required
@never_cache
@require_GET
def referral_targets(request: HttpRequest) -> HttpResponse:
    """The departments and doctors of one hospital, for the referral editor's selects. Only
    doctors use it; it shows nothing but the public directory."""
    if not Doctor.objects.filter(user_id=request.user.pk).exists():
        raise Http404
    hospital = Hospital.objects.filter(
        pk=_pk_or_none(request.GET.get("to_hospital")), is_active=True
    ).first()
    departments = doctors = []
    if hospital is not None:
        departments = list(hospital.departments.filter(is_active=True))
        doctors = list(hospital.doctors.filter(is_active=True).select_related("department"))
    return render(
        request,
        "records/clinical/referral_targets.html",
        {"departments": departments, "doctors": doctors},
    )


@_post
def problem_chronic(request: HttpRequest, encounter: Encounter, item_id) -> None:
    """Mark a standing problem chronic, or take the mark off (`chronic=0`): issue 20."""
    problem = _visible_or_404(encounter, Problem, item_id, request)
    history.problem_mark_chronic(
        problem=problem,
        encounter=encounter,
        by=request.user,
        chronic=request.POST.get("chronic", "1") != "0",
    )
