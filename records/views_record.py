"""/me/record/: the record of each person an account may read, who has seen it, and files the
account adds to it. The person is found through the signed-in account's live links that read
the record, so anyone else's person is a 404 on every URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from records import attachments, selectors
from records.access import record_access, record_read_audit
from records.forms import AttachmentForm
from records.models import Attachment, ClinicalNote, PatientLink
from records.selectors_readers import record_readers
from records.selectors_record import record_timeline
from records.selectors_renewals import renewals_for_record
from records.selectors_results import exams_visible


def _reading_link_or_404(request: HttpRequest, public_id) -> tuple[PatientLink, list]:
    links = selectors.record_links_for_account(account=request.user)
    for link in links:
        if str(link.patient.public_id) == str(public_id):
            return link, links
    raise Http404


def signed_only(timeline) -> None:
    """What a patient is shown: signed notes and prescriptions, never a doctor's draft."""
    for encounter in timeline.encounters:
        encounter.shown_notes = [note for note in encounter.notes.all() if note.is_signed]
        encounter.shown_prescriptions = [rx for rx in encounter.prescriptions.all() if rx.signed_at]
        encounter.shown_attachments = []
    by_encounter = {encounter.pk: encounter for encounter in timeline.encounters}
    loose = []
    for attachment in timeline.attachments:
        encounter = by_encounter.get(attachment.encounter_id)
        if encounter is not None:
            encounter.shown_attachments.append(attachment)
        else:
            loose.append(attachment)
    timeline.loose_attachments = loose


def _render_record(request: HttpRequest, link: PatientLink, links: list) -> HttpResponse:
    patient = link.patient
    access = record_access(user=request.user, patient=patient)
    if not access.allowed:
        raise Http404
    timeline = record_timeline(access=access)
    signed_only(timeline)
    now = timezone.now()
    renewable, renewal_requests = renewals_for_record(access=access, problems=timeline.problems)
    referrals = list(selectors.referrals_of_patient(patient=patient))
    for referral in referrals:
        referral.is_valid = referral.is_usable(now=now)
        referral.usable = link.can_book and referral.is_valid
    return render(
        request,
        "records/record.html",
        {
            "link": link,
            "links": links,
            "patient": patient,
            "timeline": timeline,
            "referrals": referrals,
            "exams": exams_visible(access=access, final_only=True),
            "renewable": renewable,
            "renewal_requests": renewal_requests,
            "form": AttachmentForm(),
            "max_mb": attachments.max_bytes() // (1024 * 1024),
        },
    )


@never_cache
@login_required
@require_GET
def record_mine(request: HttpRequest) -> HttpResponse:
    links = selectors.record_links_for_account(account=request.user)
    if not links:
        return render(request, "records/record_none.html")
    return _render_record(request, links[0], links)


@never_cache
@login_required
@require_GET
def record_patient(request: HttpRequest, public_id) -> HttpResponse:
    link, links = _reading_link_or_404(request, public_id)
    return _render_record(request, link, links)


@never_cache
@login_required
@require_GET
def record_readers_view(request: HttpRequest, public_id) -> HttpResponse:
    link, links = _reading_link_or_404(request, public_id)
    page, rows = record_readers(patient=link.patient, page=request.GET.get("page", 1))
    return render(
        request,
        "records/record_readers.html",
        {"link": link, "links": links, "patient": link.patient, "page": page, "rows": rows},
    )


@login_required
@require_POST
def record_attachment_add(request: HttpRequest, public_id) -> HttpResponse:
    link, _links = _reading_link_or_404(request, public_id)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachments.attachment_add_by_patient(
                patient=link.patient,
                account=request.user,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as refusal:
            messages.error(request, refusal.messages[0])
        else:
            messages.success(request, _("The file has been added to the record."))
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect("record_patient", public_id=link.patient.public_id)


def _attachment_or_404(request: HttpRequest, public_id):
    attachment = Attachment.objects.select_related("patient").filter(public_id=public_id).first()
    if attachment is None:
        raise Http404
    access = record_access(user=request.user, patient=attachment.patient)
    # The same scope as RecordAccess.filter: without the sharing consent, only files from the
    # reader's own hospitals (and the family's own uploads).
    if not access.allowed or not access.shows_hospital(attachment.hospital_id):
        raise Http404
    return attachment, access


@never_cache
@login_required
@require_GET
def attachment_download(request: HttpRequest, public_id) -> HttpResponse:
    """The file, as a download of the type its bytes proved, to readers of the record only."""
    attachment, access = _attachment_or_404(request, public_id)
    record_read_audit(access=access, what="attachment", target=attachment)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_GET
def note_detail(request: HttpRequest, public_id) -> HttpResponse:
    """One note with its addenda. A patient's account sees signed notes only; a doctor also
    their own drafts; both within the reader's hospital scope."""
    note = (
        ClinicalNote.objects.select_related(
            "encounter", "encounter__patient", "encounter__doctor", "encounter__hospital", "author"
        )
        .filter(public_id=public_id)
        .first()
    )
    if note is None:
        raise Http404
    access = record_access(user=request.user, patient=note.encounter.patient)
    if not access.allowed or not access.shows_hospital(note.encounter.hospital_id):
        raise Http404
    if not note.is_signed and not (access.is_staff_read and note.author_id == request.user.pk):
        raise Http404
    record_read_audit(access=access, what="note", target=note)
    return render(
        request,
        "records/note_detail.html",
        {
            "note": note,
            "encounter": note.encounter,
            "patient": note.encounter.patient,
            "addenda": list(note.addenda.select_related("author")),
            "staff": access.is_staff_read,
        },
    )
