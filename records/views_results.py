"""Exams and their reading (issue 15): the clinic doctor records an exam on the visit and sends
it for reading (/clinical/encounters/<visit>/exams/); a cloud department's specialists see their
queue (/doctor/reading/), claim an exam, read its files and the record, and sign the report.

Every door answers 404 to anyone it is not for (a foreign visit or exam is never
acknowledged); every read of clinical content by staff is audited (records.access).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hospitals.models import Department, Hospital
from records import attachments
from records.access import record_access, record_read_audit
from records.models import Encounter, Exam
from records.selectors import is_encounter_doctor
from records.selectors_results import exam_for_reader, exams_of_encounter, reading_queue
from records.services import results
from records.services.results import reader_department_ids

OBSERVATION_ROWS = 6
OBSERVATION_FIELDS = ("name", "value", "unit", "low", "high")


class ExamForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Exam"), choices=Exam.Kind.choices)
    title = forms.CharField(label=gettext_lazy("Title (optional)"), max_length=120, required=False)


class ExamSendForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("Reading department"),
        queryset=Department.objects.none(),
        error_messages={"invalid_choice": gettext_lazy("Choose a department from the list.")},
    )
    question = forms.CharField(
        label=gettext_lazy("Question for the reader (optional)"), max_length=500, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = reading_departments()


class ReportForm(forms.Form):
    findings = forms.CharField(
        label=gettext_lazy("Findings"), max_length=8000, required=False, widget=forms.Textarea
    )
    impression = forms.CharField(
        label=gettext_lazy("Impression"), max_length=4000, required=False, widget=forms.Textarea
    )
    urgent = forms.BooleanField(
        label=gettext_lazy("Urgent: tell the clinic doctor now (in-app and by SMS)"),
        required=False,
    )


def reading_departments():
    return (
        Department.objects.filter(
            hospital__kind=Hospital.Kind.CLOUD, hospital__is_active=True, is_active=True
        )
        .select_related("hospital")
        .order_by("hospital_id", "name")
    )


def _observation_rows(post) -> list[dict[str, str]]:
    """The lab values typed into the form's rows; a row left blank is skipped."""
    rows = []
    for index in range(OBSERVATION_ROWS):
        row = {name: post.get(f"obs-{index}-{name}", "").strip() for name in OBSERVATION_FIELDS}
        if any(row.values()):
            rows.append(row)
    return rows


def _refusal(request: HttpRequest, refusal: ValidationError) -> None:
    messages.error(request, " ".join(str(message) for message in refusal.messages))


# --- The clinic side: record an exam on the visit, send it for reading ------------------------


def _own_encounter_or_404(request: HttpRequest, public_id) -> Encounter:
    encounter = (
        Encounter.objects.select_related("doctor", "patient", "hospital")
        .filter(public_id=public_id)
        .first()
    )
    if encounter is None or not is_encounter_doctor(encounter=encounter, account=request.user):
        raise Http404
    if not record_access(user=request.user, patient=encounter.patient).allowed:
        raise Http404
    return encounter


def _own_exam_or_404(request: HttpRequest, public_id) -> Exam:
    exam = (
        Exam.objects.select_related("encounter__doctor", "patient")
        .filter(public_id=public_id, encounter__doctor__user=request.user)
        .first()
    )
    if exam is None or request.user.pk is None:
        raise Http404
    return exam


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def encounter_exams(request: HttpRequest, public_id) -> HttpResponse:
    """The visit's exams, and the form that records one (files and lab values)."""
    encounter = _own_encounter_or_404(request, public_id)
    form = ExamForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not encounter.is_open:
            messages.error(request, _("This visit is closed; no exam can be added to it."))
            return redirect("clinical_exams", public_id=encounter.public_id)
        if form.is_valid():
            try:
                results.exam_record(
                    encounter=encounter,
                    by=request.user,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    uploads=request.FILES.getlist("files"),
                    observations=_observation_rows(request.POST),
                )
            except ValidationError as refusal:
                _refusal(request, refusal)
                status = 400
            else:
                messages.success(request, _("The exam has been recorded."))
                return redirect("clinical_exams", public_id=encounter.public_id)
        else:
            status = 400
    exams = exams_of_encounter(encounter=encounter)
    record_read_audit(
        access=record_access(user=request.user, patient=encounter.patient), what="exams"
    )
    return render(
        request,
        "records/exams/encounter_exams.html",
        {
            "encounter": encounter,
            "patient": encounter.patient,
            "form": form,
            "exams": exams,
            "send_form": ExamSendForm(),
            "report_form": ReportForm(),
            "rows": range(OBSERVATION_ROWS),
            "max_mb": attachments.max_bytes() // (1024 * 1024),
        },
        status=status,
    )


@login_required
@require_POST
def exam_send(request: HttpRequest, public_id) -> HttpResponse:
    exam = _own_exam_or_404(request, public_id)
    form = ExamSendForm(request.POST)
    if form.is_valid():
        try:
            results.exam_send(
                exam=exam,
                department=form.cleaned_data["department"],
                by=request.user,
                question=form.cleaned_data["question"],
            )
        except ValidationError as refusal:
            _refusal(request, refusal)
        else:
            messages.success(request, _("The exam has been sent for reading."))
    else:
        messages.error(request, form.errors["department"][0])
    return redirect("clinical_exams", public_id=exam.encounter.public_id)


def _sign(request: HttpRequest, exam: Exam) -> bool:
    form = ReportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return False
    try:
        results.exam_sign(
            exam=exam,
            by=request.user,
            findings=form.cleaned_data["findings"],
            impression=form.cleaned_data["impression"],
            urgent=form.cleaned_data["urgent"],
        )
    except ValidationError as refusal:
        _refusal(request, refusal)
        return False
    messages.success(request, _("The report has been signed."))
    return True


@login_required
@require_POST
def exam_sign_own(request: HttpRequest, public_id) -> HttpResponse:
    """The visit's doctor signs an exam they did not send for reading (a lab panel)."""
    exam = _own_exam_or_404(request, public_id)
    _sign(request, exam)
    return redirect("clinical_exams", public_id=exam.encounter.public_id)


# --- The reading side: a department's queue, claim, read, sign ---------------------------------


@never_cache
@login_required
@require_GET
def reading_queue_view(request: HttpRequest) -> HttpResponse:
    if not reader_department_ids(request.user):
        raise Http404
    waiting, mine = reading_queue(user=request.user)
    return render(request, "records/exams/reading_queue.html", {"waiting": waiting, "mine": mine})


def _reader_exam_or_404(request: HttpRequest, public_id) -> Exam:
    exam = exam_for_reader(user=request.user, public_id=public_id)
    if exam is None:
        raise Http404
    return exam


@never_cache
@login_required
@require_GET
def reading_exam(request: HttpRequest, public_id) -> HttpResponse:
    """A waiting exam shows what it is and the question; once claimed, its files, values and
    the way into the record (the claim is the reason the reader may read it)."""
    exam = _reader_exam_or_404(request, public_id)
    access = None
    if exam.status != Exam.Status.SENT:
        access = record_access(user=request.user, patient=exam.patient)
        if not access.allowed:
            raise Http404  # the reading's access has ended
        record_read_audit(access=access, what="exam", target=exam)
    return render(
        request,
        "records/exams/reading_exam.html",
        {
            "exam": exam,
            "patient": exam.patient,
            "access": access,
            "report_form": ReportForm(),
        },
    )


@login_required
@require_POST
def reading_claim(request: HttpRequest, public_id) -> HttpResponse:
    exam = _reader_exam_or_404(request, public_id)
    try:
        results.exam_claim(exam=exam, by=request.user)
    except ValidationError as refusal:
        _refusal(request, refusal)
        return redirect("reading_queue")
    messages.success(request, _("The exam is yours to read."))
    return redirect("reading_exam", public_id=exam.public_id)


@login_required
@require_POST
def reading_sign(request: HttpRequest, public_id) -> HttpResponse:
    exam = _reader_exam_or_404(request, public_id)
    _sign(request, exam)
    return redirect("reading_exam", public_id=exam.public_id)


@never_cache
@login_required
@require_GET
def reading_file(request: HttpRequest, public_id, file_id) -> HttpResponse:
    """A file of the exam, to its reader while the reading's access lasts."""
    exam = _reader_exam_or_404(request, public_id)
    if exam.status == Exam.Status.SENT:
        raise Http404
    attachment = next((f for f in exam.files.all() if str(f.public_id) == str(file_id)), None)
    access = record_access(user=request.user, patient=exam.patient)
    if attachment is None or not access.allowed:
        raise Http404
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
