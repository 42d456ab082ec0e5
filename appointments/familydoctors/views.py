"""Family doctors' pages: the family's signing page (/me/family-doctor/), the team's panel
(/doctor/family/…) and the clinic's teams in the console (/manage/<clinic>/family-teams/).

Every object is found through the account's own rows (its people's signings, its teams, the
console's hospital), so another's is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.errors import BookingRefused
from appointments.familydoctors import selectors, services
from appointments.familydoctors.forms import PlanForm, TeamForm
from appointments.familydoctors.models import FamilyTeam, FollowUpTask
from hospitals.models import Hospital
from hospitals.views_console import console_view
from records.access import record_access, record_read_audit
from records.models import Problem, today_in_city
from records.selectors import patients_for_account


def _refusal_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(str(m) for m in error.messages)
    return str(getattr(error, "message", error))


# --- The family ----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def family_doctor(request: HttpRequest) -> HttpResponse:
    people = list(patients_for_account(account=request.user, can_book=True).order_by("pk"))
    signings = {s.patient_id: s for s in selectors.signings_of_account(account=request.user)}
    teams = list(selectors.teams_open_for_signing())
    error = ""
    if request.method == "POST":
        person = next((p for p in people if str(p.public_id) == request.POST.get("patient")), None)
        team = next((t for t in teams if str(t.public_id) == request.POST.get("team")), None)
        if person is None:
            raise Http404
        if team is None:
            error = _("Choose a team.")
        else:
            try:
                services.signing_create(
                    patient=person,
                    team=team,
                    by=request.user,
                    consent=request.POST.get("consent") == "yes",
                )
            except ValidationError as refusal:
                error = _refusal_text(refusal)
            else:
                messages.success(request, _("Signed. The team has been told."))
                return redirect("family_doctor")
    rows = [{"person": p, "signing": signings.get(p.pk)} for p in people]
    return render(
        request,
        "familydoctors/family.html",
        {"rows": rows, "teams": teams, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def family_signing_cancel(request: HttpRequest, signing_id) -> HttpResponse:
    signing = get_object_or_404(
        selectors.signings_of_account(account=request.user), public_id=signing_id
    )
    services.signing_cancel(signing=signing, by=request.user)
    messages.success(request, _("The signing is cancelled; the team no longer reads the record."))
    return redirect("family_doctor")


# --- The team ------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    teams = list(selectors.teams_of_member(user=request.user))
    if len(teams) == 1:
        return redirect("family_panel", team_id=teams[0].public_id)
    return render(request, "familydoctors/team_list.html", {"teams": teams})


@never_cache
@login_required
@require_GET
def team_panel(request: HttpRequest, team_id) -> HttpResponse:
    team = selectors.team_of_member_or_404(user=request.user, public_id=team_id)
    rows = selectors.panel(team=team)
    overdue = sum(len(r.overdue_tasks) for r in rows)
    return render(
        request,
        "familydoctors/panel.html",
        {"team": team, "rows": rows, "overdue": overdue, "today": today_in_city()},
    )


def _member_problems(request, signing) -> list[Problem]:
    """The person's open problems as this team member may see them (records/access.py: the
    signing's grant, scoped by the sharing consent); the read is audited. A 404 once the
    member's access has ended."""
    access = record_access(user=request.user, patient=signing.patient)
    if not access.allowed:
        raise Http404
    record_read_audit(access=access, what="family_panel")
    return list(
        access.filter(
            Problem.objects.filter(patient=signing.patient, resolved_at__isnull=True)
        ).order_by("pk")
    )


def _member_page(request, team: FamilyTeam, signing, *, form=None, error="", status=200):
    problems = _member_problems(request, signing)
    return render(
        request,
        "familydoctors/member.html",
        {
            "team": team,
            "signing": signing,
            "tasks": list(selectors.tasks_of_signing(signing=signing)),
            "form": form or PlanForm(problems=problems),
            "periods": selectors.team_periods_bookable(team=team),
            "is_gp": team.gp.user_id == request.user.pk,
            "today": today_in_city(),
            "error": error,
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def panel_member(request: HttpRequest, team_id, signing_id) -> HttpResponse:
    team = selectors.team_of_member_or_404(user=request.user, public_id=team_id)
    signing = selectors.signing_of_team_or_404(team=team, public_id=signing_id)
    return _member_page(request, team, signing)


@login_required
@require_POST
def plan_set(request: HttpRequest, team_id, signing_id) -> HttpResponse:
    team = selectors.team_of_member_or_404(user=request.user, public_id=team_id)
    signing = selectors.signing_of_team_or_404(team=team, public_id=signing_id)
    form = PlanForm(request.POST, problems=_member_problems(request, signing))
    if not form.is_valid():
        return _member_page(request, team, signing, form=form, status=400)
    problem = form.problems.get(form.cleaned_data["problem"] or "")
    if not (form.cleaned_data["label"] or problem):
        form.add_error("label", _("Say what to follow, or choose a problem."))
        return _member_page(request, team, signing, form=form, status=400)
    try:
        services.followup_plan_set(
            signing=signing,
            by=request.user,
            interval_months=form.cleaned_data["interval_months"],
            label=form.cleaned_data["label"],
            problem=problem,
        )
    except ValidationError as refusal:
        return _member_page(request, team, signing, error=_refusal_text(refusal), status=400)
    messages.success(request, _("Follow-up plan saved."))
    return redirect("family_member", team_id=team.public_id, signing_id=signing.public_id)


@login_required
@require_POST
def task_done(request: HttpRequest, team_id, task_id) -> HttpResponse:
    team = selectors.team_of_member_or_404(user=request.user, public_id=team_id)
    task = get_object_or_404(
        FollowUpTask.objects.select_related("signing__team", "plan"),
        public_id=task_id,
        signing__team=team,
    )
    try:
        services.followup_task_done(task=task, by=request.user)
    except ValidationError as refusal:
        messages.error(request, _refusal_text(refusal))
    return redirect("family_member", team_id=team.public_id, signing_id=task.signing.public_id)


@login_required
@require_POST
def panel_book(request: HttpRequest, team_id, signing_id) -> HttpResponse:
    team = selectors.team_of_member_or_404(user=request.user, public_id=team_id)
    signing = selectors.signing_of_team_or_404(team=team, public_id=signing_id)
    period = next(
        (
            p
            for p in selectors.team_periods_bookable(team=team, limit=50)
            if str(p.pk) == request.POST.get("slot")
        ),
        None,
    )
    if period is None:
        return _member_page(request, team, signing, error=_("Choose a free period."), status=400)
    try:
        appointment = services.panel_book(
            signing=signing,
            slot=period,
            by=request.user,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except (ValidationError, BookingRefused) as refusal:
        return _member_page(request, team, signing, error=_refusal_text(refusal), status=400)
    messages.success(
        request, _("Booked: code %(code)s. The family has been told.") % {"code": appointment.code}
    )
    return redirect("family_member", team_id=team.public_id, signing_id=signing.public_id)


# --- The console (the clinic's hospital admin) ---------------------------------------------


@console_view
@require_http_methods(["GET", "POST"])
def console_teams(request: HttpRequest, hospital: Hospital, team_id: int | None = None):
    if hospital.kind != Hospital.Kind.CLINIC:
        raise Http404
    team = get_object_or_404(FamilyTeam, pk=team_id, clinic=hospital) if team_id else None
    form = TeamForm(request.POST or None, instance=team, clinic=hospital)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.team_save(
                clinic=hospital,
                by=request.user,
                team=team,
                name=data["name"],
                name_en=data["name_en"],
                gp=data["gp"],
                nurse=data["nurse"],
                is_active=data["is_active"],
            )
        except ValidationError as refusal:
            form.add_error(None, refusal)
        else:
            messages.success(request, _("Team saved."))
            return redirect(reverse("console_family_teams", args=[hospital.slug]))
    return render(
        request,
        "familydoctors/console_teams.html",
        {
            "hospital": hospital,
            "teams": list(selectors.teams_of_clinic(clinic=hospital)),
            "form": form,
            "team": team,
        },
        status=400 if form.errors else 200,
    )
