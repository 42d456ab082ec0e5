"""THE policy table: for every endpoint of the site, what each role gets when it asks for an
object of somebody else (patient A's, hospital X's).

An endpoint that is in the URL resolver (or the WebSocket router) but not here fails
tests/security/test_matrix.py. To cover a new endpoint, add one entry: its URL name, what GET
(and POST, if it takes one) answers each role, and, when a path parameter is not one of the
common names in OBJECTS, which of the world's objects fills it. See README.md beside this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.security.world import PERSON, ROLES

# --- Outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    label: str
    statuses: frozenset[int]
    login: bool = False  # must be a redirect to the sign-in page
    login_ok: bool = False  # a redirect to the sign-in page is one of the answers allowed
    # A refusal: the request must leave every row as it was (checked after the refused POSTs).
    refusal: bool = False

    def __repr__(self) -> str:
        return self.label


OK = Outcome("200", frozenset({200}))
# A POST handled by its owner: done and redirected, or refused with a message on the page.
DONE = Outcome("done", frozenset({200, 302, 400}))
REDIRECT = Outcome("302", frozenset({302}))
LOGIN = Outcome("login", frozenset({302}), login=True, refusal=True)
NOT_FOUND = Outcome("404", frozenset({404}), refusal=True)
NOT_ALLOWED = Outcome("405", frozenset({405}), refusal=True)
# A form that names somebody else's object: the page (or the redirect back) says no, and
# nothing is written.
REFUSED_200 = Outcome("200, nothing written", frozenset({200}), refusal=True)
REFUSED_302 = Outcome("302, nothing written", frozenset({302}), refusal=True)
# The rebooking link answers a link that is not yours exactly like a forged one (410, "This
# link is not valid."): nothing tells it apart from an unknown token.
NOT_VALID = Outcome("410", frozenset({410}), refusal=True)
# The FHIR API's authenticated resources, asked without a session or a token: 401 with a
# Bearer challenge (an API answers, it does not redirect to a page).
UNAUTHORIZED = Outcome("401", frozenset({401}), refusal=True)
CREATED = Outcome("201", frozenset({201}))
# A credential of the wrong kind (a session or an account's token where only a hospital's
# results token may write): 403, nothing written.
FORBIDDEN = Outcome("403", frozenset({403}), refusal=True)
# Third-party pages (allauth, the Django admin): anything but a server error; canaries are
# still checked.
ANY = Outcome("any", frozenset(range(200, 500)), login_ok=True)
# Refused one way or another (a redirect to a sign-in page, 403, 404): never a page.
REFUSED = Outcome("refused", frozenset(range(300, 500)), login_ok=True)


def roles(default: Outcome, **overrides: Outcome) -> dict[str, Outcome]:
    unknown = set(overrides) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: overrides.get(role, default) for role in ROLES}


@dataclass(frozen=True)
class Rule:
    get: dict[str, Outcome]
    post: dict[str, Outcome] | None = None  # None: the endpoint is not for POST
    # Path parameters filled from the world by a name other than OBJECTS' default.
    objects: dict[str, str] = field(default_factory=dict)
    # Canary kinds this endpoint shows to whoever reaches it, because the secret in its URL
    # is the credential (a link sent by e-mail to somebody who has no access yet).
    reveals: frozenset[str] = frozenset()
    # Query-string parameters and POST fields: attribute paths into the world's objects (the
    # forged ids a role sends), or literal values.
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    # Every role signed in just now (the page is behind allauth's reauthentication), so the
    # matrix reaches the view's own check rather than the password prompt.
    fresh: bool = False
    # A JSON body (built from the world) POSTed as application/fhir+json instead of the form.
    payload: Callable[[Any], dict] | None = None


# --- Which object fills which path parameter --------------------------------------------
# A path parameter named here is filled with that attribute path of the world's objects
# (tests/security/world.py). Every one of them belongs to patient A or hospital X.

OBJECTS: dict[str, str] = {
    "public_id": "patient.public_id",
    "invitation_id": "invitation.public_id",
    "link_id": "link.public_id",
    "consent_id": "consent.public_id",
    "code": "appointment.code",
    "slot_id": "slot.pk",
    "hospital_slug": "hospital.slug",
    "slug": "hospital.slug",
    "department_slug": "department.slug",
    "department_id": "department.pk",
    "doctor_id": "doctor.pk",
    "rule_id": "rule.pk",
    "day": "day",
    "pk": "doctor.pk",
    "token": "invitation_token",
}

# --- Shorthands -------------------------------------------------------------------------

PUBLIC = roles(OK)
SIGNED_IN = roles(OK, anonymous=LOGIN)
POST_ONLY = roles(NOT_ALLOWED)
SIGNED_IN_POST_ONLY = roles(NOT_ALLOWED, anonymous=LOGIN)


def owner(role: str = "patient_a", outcome: Outcome = OK, **more: Outcome) -> dict:
    """Only the owner gets in; every other signed-in account gets a 404."""
    return roles(NOT_FOUND, anonymous=LOGIN, **{role: outcome}, **more)


def doctor(outcome: Outcome = OK, *, nocare: Outcome = NOT_FOUND) -> dict:
    """A doctor's page about A's care: the treating doctor; `nocare` for the other doctor of
    the same hospital; 404 for everyone else (hospital admins and front desk included)."""
    return roles(NOT_FOUND, anonymous=LOGIN, doctor_care=outcome, doctor_nocare=nocare)


def fhir(**more: Outcome) -> dict:
    """An authenticated FHIR resource of A's: 401 without credentials, 404 unless `more`."""
    return roles(NOT_FOUND, anonymous=UNAUTHORIZED, **more)


def fhir_booking(world) -> dict:
    """A FHIR Appointment booking A's child into a free period of X's doctor."""
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{world.objects['spare'].pk}"}],
        "participant": [{"actor": {"reference": f"Patient/{world.objects['patient'].public_id}"}}],
        "comment": "forged",
    }


def fhir_results_bundle(world) -> dict:
    """A clinic system's transaction Bundle: a lab report with one value on A's encounter."""
    observation = "urn:uuid:00000000-0000-4000-8000-000000000001"
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "status": "final",
                    "category": [{"coding": [{"code": "LAB"}]}],
                    "code": {"text": "forged"},
                    "encounter": {"reference": f"Encounter/{world.objects['encounter'].public_id}"},
                    "result": [{"reference": observation}],
                },
                "request": {"method": "POST", "url": "DiagnosticReport"},
            },
            {
                "fullUrl": observation,
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "forged"},
                    "valueQuantity": {"value": 1, "unit": "g/L"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }


def console(outcome: Outcome = OK) -> dict:
    """Hospital X's console: X's admins and platform admins; 404 for everyone else."""
    return roles(NOT_FOUND, anonymous=LOGIN, admin_x=outcome, platform_admin=outcome)


def desk(outcome: Outcome = OK) -> dict:
    """The front desk: its hospital's desk and admins, every admin's own desk; 404 for
    patients and doctors."""
    return roles(
        NOT_FOUND,
        anonymous=LOGIN,
        admin_x=outcome,
        admin_y=outcome,
        desk_x=outcome,
        platform_admin=outcome,
    )


# --- The table --------------------------------------------------------------------------

POLICY: dict[str, Rule] = {
    # Public pages: the directory, search, a doctor's periods.
    "home": Rule(get=PUBLIC, post=POST_ONLY),
    "healthz": Rule(get=PUBLIC, post=POST_ONLY),
    "healthz_live": Rule(get=PUBLIC, post=POST_ONLY),
    "set_language": Rule(get=roles(REDIRECT), post=roles(REDIRECT)),
    "hospital_list": Rule(get=PUBLIC, post=POST_ONLY),
    "hospital_detail": Rule(get=PUBLIC, post=POST_ONLY),
    "department_detail": Rule(get=PUBLIC, post=POST_ONLY),
    "search": Rule(get=PUBLIC, post=POST_ONLY),
    "doctor_detail": Rule(get=PUBLIC, post=POST_ONLY),
    "doctor_slots": Rule(get=PUBLIC, post=POST_ONLY),
    # A doctor's sessions feed: the secret link is the credential; without it, 404 for all.
    "doctor_sessions_ics": Rule(get=roles(NOT_FOUND), post=POST_ONLY),
    # The people an account acts for (/me/patients/): the linked manager only.
    "patient_list": Rule(get=SIGNED_IN),
    "patient_add": Rule(get=SIGNED_IN, post=roles(OK, anonymous=LOGIN)),
    "patient_detail": Rule(get=owner()),
    "patient_edit": Rule(get=owner(), post=owner(outcome=DONE)),
    "patient_remove": Rule(get=owner(), post=owner(outcome=DONE)),
    "patient_invite": Rule(get=owner(), post=owner(outcome=DONE)),
    "invitation_revoke": Rule(get=SIGNED_IN_POST_ONLY, post=owner(outcome=DONE)),
    "link_revoke": Rule(get=SIGNED_IN_POST_ONLY, post=owner(outcome=DONE)),
    "consent_give": Rule(get=SIGNED_IN_POST_ONLY, post=owner(outcome=NOT_FOUND)),
    "consent_revoke": Rule(get=SIGNED_IN_POST_ONLY, post=owner(outcome=DONE)),
    # The invitation link is meant for someone else's account: whoever holds the token sees
    # whom it is for, and nothing more (the record needs the link it grants).
    "invitation_respond": Rule(
        get=SIGNED_IN, post=roles(DONE, anonymous=LOGIN), reveals=frozenset({PERSON})
    ),
    # The inbox: one's own messages only.
    "notification_list": Rule(get=SIGNED_IN, post=roles(NOT_ALLOWED, anonymous=LOGIN)),
    "notification_unread": Rule(get=SIGNED_IN, post=roles(NOT_ALLOWED, anonymous=LOGIN)),
    "notification_read_all": Rule(get=SIGNED_IN_POST_ONLY, post=roles(REDIRECT, anonymous=LOGIN)),
    # Each account sets its own channels only (nothing in the request names an object).
    "message_channels": Rule(get=SIGNED_IN_POST_ONLY, post=roles(REDIRECT, anonymous=LOGIN)),
    "notification_read": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=owner(outcome=REDIRECT),
        objects={"pk": "notification.pk"},
        form={"open": "1"},
    ),
    # Appointments: the accounts linked to the patient only.
    "appointment_list": Rule(get=SIGNED_IN, post=roles(NOT_ALLOWED, anonymous=LOGIN)),
    "appointment_detail": Rule(get=owner(), post=owner(outcome=NOT_ALLOWED)),
    "appointment_ics": Rule(get=owner(), post=owner(outcome=NOT_ALLOWED)),
    # GET asks "cancel this appointment?" (works without JavaScript); POST cancels.
    "appointment_cancel": Rule(get=owner(), post=owner(outcome=REDIRECT)),
    # The short link of text messages: the owner is sent on to the appointment page.
    "appointment_short": Rule(get=owner(outcome=REDIRECT), post=owner(outcome=NOT_ALLOWED)),
    "appointment_reschedule": Rule(get=owner(), post=owner(outcome=OK)),
    # Booking a public period is open to every signed-in account (for its own people).
    # Naming A's referral or A's child in the booking form is somebody else's object.
    "appointment_confirm": Rule(
        get=owner(),
        post=roles(REFUSED_200, anonymous=LOGIN, patient_a=DONE),
        query={"referral": "referral.public_id"},
        form={"patient": "patient.pk", "key": "forged-key", "reason": "forged"},
    ),
    "appointment_hold_release": Rule(
        get=SIGNED_IN_POST_ONLY, post=roles(REDIRECT, anonymous=LOGIN)
    ),
    "appointment_waitlist_join": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=roles(REFUSED_302, anonymous=LOGIN, patient_a=REDIRECT),
        form={"patient": "patient.pk"},
    ),
    # Revoking A's feed link by its id.
    "appointment_calendar_links": Rule(
        get=SIGNED_IN,
        post=roles(NOT_FOUND, anonymous=LOGIN, patient_a=REDIRECT),
        form={"action": "revoke", "token": "feed_token.pk"},
    ),
    "appointment_rebook": Rule(
        get=roles(NOT_VALID, anonymous=LOGIN, patient_a=OK),
        post=roles(NOT_VALID, anonymous=LOGIN, patient_a=DONE),
        objects={"token": "rebook_token"},
    ),
    # The personal feed: the secret link is the credential (calendar apps cannot sign in).
    "calendar_feed": Rule(get=roles(OK), post=POST_ONLY, objects={"token": "feed_secret"}),
    # The front desk of hospital X.
    # Looking up and checking in A's appointment (at X) by its code.
    "desk": Rule(get=desk(), post=desk(NOT_ALLOWED), query={"code": "appointment.code"}),
    "desk_check_in": Rule(
        get=desk(NOT_ALLOWED),
        post=desk(REDIRECT) | {"admin_y": NOT_FOUND},
        form={"code": "appointment.code"},
    ),
    # The doctor's day and the consult room: the appointment's doctor and the patient's
    # accounts; every other doctor, staff member and patient gets a 404.
    "doctor_day": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK),
        post=roles(NOT_ALLOWED),
    ),
    "consult_room": Rule(
        get=owner(doctor_care=OK),
        post=roles(NOT_ALLOWED, anonymous=NOT_ALLOWED),
        objects={"public_id": "consultation.public_id"},
    ),
    # Text consults (图文问诊): the thread is its family's and its doctor's; a doctor's queue and
    # offer are their own; asking one is open to any signed-in account (its own people).
    "text_consult_list": Rule(get=SIGNED_IN, post=SIGNED_IN_POST_ONLY),
    "text_consult_new": Rule(get=SIGNED_IN, post=roles(DONE, anonymous=LOGIN)),
    "text_consult": Rule(
        get=owner(doctor_care=OK),
        post=owner(outcome=DONE, doctor_care=DONE),
        objects={"public_id": "text_thread.public_id"},
    ),
    "text_consult_messages": Rule(
        get=owner(doctor_care=OK),
        post=SIGNED_IN_POST_ONLY,
        objects={"public_id": "text_thread.public_id"},
    ),
    "text_consult_photo": Rule(
        get=owner(doctor_care=OK),
        post=SIGNED_IN_POST_ONLY,
        objects={"public_id": "text_thread.public_id", "photo_id": "text_photo.public_id"},
    ),
    "text_consult_book": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=DONE),
        objects={"public_id": "text_thread.public_id"},
    ),
    "text_consult_close": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=DONE),
        objects={"public_id": "text_thread.public_id"},
    ),
    "text_consult_queue": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK),
        post=SIGNED_IN_POST_ONLY,
    ),
    "text_offer_settings": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK),
        post=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=DONE, doctor_nocare=DONE),
    ),
    "consult_ice": Rule(
        get=owner(doctor_care=OK),
        post=roles(NOT_ALLOWED, anonymous=NOT_ALLOWED),
        objects={"public_id": "consultation.public_id"},
    ),
    # The hospital admin console of hospital X.
    "manage": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, admin_x=OK, admin_y=OK, platform_admin=OK),
        post=roles(NOT_FOUND, anonymous=LOGIN, admin_x=OK, admin_y=OK, platform_admin=OK),
    ),
    "console_hospital": Rule(get=console(), post=console()),
    "console_departments": Rule(get=console(), post=console()),
    "console_department_add": Rule(get=console(), post=console(DONE)),
    "console_department_edit": Rule(get=console(), post=console(DONE)),
    "console_department_deactivate": Rule(get=console(), post=console(DONE)),
    "console_doctors": Rule(get=console(), post=console()),
    "console_doctor_add": Rule(get=console(), post=console(DONE)),
    "console_doctor": Rule(get=console(), post=console()),
    "console_doctor_edit": Rule(get=console(), post=console(DONE)),
    "console_doctor_deactivate": Rule(get=console(), post=console(DONE)),
    "console_doctor_invite": Rule(get=console(NOT_ALLOWED), post=console(DONE)),
    "console_rota_list": Rule(get=console(), post=console(NOT_ALLOWED)),
    "console_rota": Rule(get=console(), post=console(DONE)),
    "console_rota_edit": Rule(get=console(), post=console(DONE)),
    "console_rota_delete": Rule(get=console(), post=console(DONE)),
    "console_calendar_links": Rule(
        get=console(),
        post=console(REDIRECT),
        form={"action": "revoke", "token": "sessions_token.pk"},
    ),
    "console_schedule_preview": Rule(get=console(), post=console(REDIRECT)),
    "console_closures": Rule(get=console(), post=console(NOT_ALLOWED)),
    "console_closure_new": Rule(get=console(), post=console(DONE), query={"slot": "slot.pk"}),
    "console_today": Rule(get=console(REDIRECT), post=console(NOT_ALLOWED)),
    "console_day": Rule(get=console(), post=console(NOT_ALLOWED)),
    # A bulk export of names: behind a fresh sign-in (allauth's reauthentication).
    "console_day_csv": Rule(get=console(), post=console(NOT_ALLOWED), fresh=True),
    # Patient A's record (/me/record/): the accounts linked to the person read it; staff read
    # it at /doctor/record/. A note and a file are read by both, through records/access.py.
    "record_mine": Rule(get=SIGNED_IN),
    "record_patient": Rule(get=owner()),
    "record_readers": Rule(get=owner()),
    "record_attachment_add": Rule(get=SIGNED_IN_POST_ONLY, post=owner(outcome=REDIRECT)),
    "attachment_download": Rule(
        get=owner(doctor_care=OK), objects={"public_id": "attachment.public_id"}
    ),
    "record_note": Rule(get=owner(doctor_care=OK), objects={"public_id": "note.public_id"}),
    "staff_note": Rule(get=owner(doctor_care=OK), objects={"public_id": "note.public_id"}),
    "staff_attachment_download": Rule(
        get=owner(doctor_care=OK), objects={"public_id": "attachment.public_id"}
    ),
    # The record export: a fresh sign-in, then the linked accounts only (never staff).
    "record_export": Rule(get=owner(), fresh=True),
    # The doctor's side of the record.
    "staff_record": Rule(get=doctor()),
    "break_glass": Rule(get=doctor(nocare=OK), post=doctor(DONE, nocare=DONE)),
    "encounter_attachment_add": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(REDIRECT),
        objects={"public_id": "encounter.public_id"},
    ),
    # The encounter's editors: its own doctor only; anyone else a 404 and nothing written.
    "clinical_referral_targets": Rule(get=doctor(nocare=OK), query={"to_hospital": "hospital.pk"}),
    "clinical_note_save": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id"},
    ),
    "clinical_note_addendum": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id", "note_id": "note.public_id"},
    ),
    "clinical_prescription": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id"},
    ),
    "clinical_allergy_add": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id"},
    ),
    "clinical_allergy_remove": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id", "item_id": "allergy.public_id"},
    ),
    "clinical_problem_add": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id"},
    ),
    "clinical_problem_resolve": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id", "item_id": "problem.public_id"},
    ),
    "clinical_referral": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id"},
    ),
    # Exams on A's encounter (issue 15): its own doctor records, sends and signs them.
    "clinical_exams": Rule(
        get=doctor(), post=doctor(DONE), objects={"public_id": "encounter.public_id"}
    ),
    "clinical_exam_send": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(REDIRECT),
        objects={"public_id": "exam.public_id"},
        form={"department": "department.pk"},
    ),
    "clinical_exam_sign": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(REDIRECT),
        objects={"public_id": "exam.public_id"},
        form={"findings": "forged"},
    ),
    # A department's reading queue: its doctors see it (A's report is signed, never sent for
    # reading: no queue lists it); an exam is read only by the specialist who claimed it.
    "reading_queue": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK),
        post=SIGNED_IN_POST_ONLY,
    ),
    "reading_exam": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN),
        post=SIGNED_IN_POST_ONLY,
        objects={"public_id": "exam.public_id"},
    ),
    "reading_claim": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=roles(NOT_FOUND, anonymous=LOGIN),
        objects={"public_id": "exam.public_id"},
    ),
    "reading_sign": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=roles(NOT_FOUND, anonymous=LOGIN),
        objects={"public_id": "exam.public_id"},
        form={"findings": "forged"},
    ),
    "reading_file": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN),
        post=SIGNED_IN_POST_ONLY,
        objects={"public_id": "exam.public_id", "file_id": "attachment.public_id"},
    ),
    # Repeat prescriptions (issue 20): A asks to renew her child's prescription from the
    # record (a request already waits, so her POST is refused with a message and redirected);
    # the prescribing doctor's queue and answer; every other doctor's queue is empty and any
    # other door a 404.
    "renewal_request": Rule(
        get=owner(),
        post=owner(outcome=DONE),
        objects={"prescription_id": "prescription.public_id"},
    ),
    "renewal_queue": Rule(
        get=roles(NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK),
        post=SIGNED_IN_POST_ONLY,
    ),
    "renewal_detail": Rule(
        get=doctor(), post=SIGNED_IN_POST_ONLY, objects={"public_id": "renewal.public_id"}
    ),
    "renewal_approve": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "renewal.public_id"},
        form={"action": "approve"},
    ),
    "renewal_decline": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "renewal.public_id"},
        form={"message": "forged"},
    ),
    "clinical_problem_chronic": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"public_id": "encounter.public_id", "item_id": "problem.public_id"},
    ),
    # The doctor's visit page of A's in-person appointment (code → A's visit at X).
    "doctor_visit": Rule(get=doctor()),
    "doctor_visit_workspace": Rule(get=doctor()),
    "doctor_visit_complete": Rule(get=roles(NOT_ALLOWED), post=doctor(REDIRECT)),
    # "Consult a specialist" on that visit (远程会诊): its own doctor only; a POST that names a
    # period is booked, or refused with the form (400), or sent back to the visit when it is
    # not going on; anyone else gets a 404 and nothing is written.
    "remote_consultation_new": Rule(
        get=doctor(), post=doctor(DONE), form={"slot": "spare.pk", "question": "forged"}
    ),
    "doctor_call_next": Rule(get=roles(NOT_ALLOWED), post=doctor(REDIRECT, nocare=REDIRECT)),
    # The front desk's queue, the waiting-room display of X (Y's admin: not their hospital),
    # and handing a record to its own person.
    "desk_queue": Rule(get=desk()),
    "desk_claim_self": Rule(get=desk(), post=desk(DONE)),
    "desk_display": Rule(get=desk() | {"admin_y": NOT_FOUND}),
    "desk_display_board": Rule(get=desk() | {"admin_y": NOT_FOUND}),
    # Personal access tokens: one's own; revoking A's token by its id is a 404.
    "access_tokens": Rule(
        get=SIGNED_IN,
        post=roles(NOT_FOUND, anonymous=LOGIN, patient_a=REDIRECT),
        form={"action": "revoke", "token": "access_token.pk"},
    ),
    # A hospital's results token: staff of a hospital (doctors, admins) only, and created only
    # after the second factor again (a plain sign-in is sent to re-authenticate).
    "results_tokens": Rule(
        get=roles(
            NOT_FOUND, anonymous=LOGIN, doctor_care=OK, doctor_nocare=OK, admin_x=OK, admin_y=OK
        ),
        post=roles(
            NOT_FOUND,
            anonymous=LOGIN,
            doctor_care=REDIRECT,
            doctor_nocare=REDIRECT,
            admin_x=REDIRECT,
            admin_y=REDIRECT,
        ),
        form={"hospital": "hospital.pk", "name": "forged", "days": "30"},
    ),
    # FHIR R4 (/fhir/): the directory is public; the rest needs a session or a token.
    "fhir_metadata": Rule(get=PUBLIC, post=POST_ONLY),
    "fhir_organization_search": Rule(get=PUBLIC, post=POST_ONLY),
    "fhir_organization": Rule(get=PUBLIC, post=POST_ONLY, objects={"resource_id": "hospital.pk"}),
    "fhir_location": Rule(get=PUBLIC, post=POST_ONLY, objects={"resource_id": "hospital.pk"}),
    "fhir_practitioner_search": Rule(get=PUBLIC, post=POST_ONLY),
    "fhir_practitioner": Rule(get=PUBLIC, post=POST_ONLY, objects={"resource_id": "doctor.pk"}),
    "fhir_schedule_search": Rule(get=PUBLIC, post=POST_ONLY),
    "fhir_schedule": Rule(get=PUBLIC, post=POST_ONLY, objects={"resource_id": "schedule_id"}),
    "fhir_slot_search": Rule(get=PUBLIC, post=POST_ONLY),
    "fhir_slot": Rule(get=PUBLIC, post=POST_ONLY, objects={"resource_id": "slot.pk"}),
    # One's own appointments and people; an empty POST is a malformed booking (400).
    # Booking A's child over the API: her account only; anyone else naming the child is told
    # "No such patient." (404) and nothing is booked.
    "fhir_appointments": Rule(
        get=roles(OK, anonymous=UNAUTHORIZED),
        post=fhir(patient_a=CREATED),
        payload=fhir_booking,
    ),
    "fhir_appointment": Rule(
        get=fhir(patient_a=OK), post=POST_ONLY, objects={"resource_id": "appointment.code"}
    ),
    "fhir_patient_search": Rule(get=roles(OK, anonymous=UNAUTHORIZED), post=POST_ONLY),
    # A's child: her linked account and the treating doctor (through records/access.py).
    "fhir_patient": Rule(
        get=fhir(patient_a=OK, doctor_care=OK),
        post=POST_ONLY,
        objects={"resource_id": "patient.public_id"},
    ),
    "fhir_patient_everything": Rule(
        get=fhir(patient_a=OK, doctor_care=OK),
        post=POST_ONLY,
        objects={"resource_id": "patient.public_id"},
    ),
    # allauth's pages that send an SMS code (issue 18): open to anyone signed out, the same
    # answer for every number (tests/accounts/test_sms_code_limits.py pins enumeration and the
    # limits: 5 texts a number and 20 requests an address an hour); a signed-in account is sent
    # away and nothing is sent or written.
    "account_signup": Rule(
        get=roles(REDIRECT, anonymous=OK), post=roles(REFUSED_302, anonymous=DONE)
    ),
    "account_request_login_code": Rule(
        get=roles(REDIRECT, anonymous=OK), post=roles(REFUSED_302, anonymous=DONE)
    ),
    # Without a code requested in this session there is nothing to confirm.
    "account_confirm_login_code": Rule(
        get=roles(REDIRECT, anonymous=LOGIN), post=roles(REFUSED_302, anonymous=LOGIN)
    ),
    "account_verify_phone": Rule(get=roles(ANY), post=roles(ANY)),
    # Results (issue 15): the family's own reports and values; staff read them in $everything.
    "fhir_diagnostic_report_search": Rule(get=roles(OK, anonymous=UNAUTHORIZED), post=POST_ONLY),
    "fhir_diagnostic_report": Rule(
        get=fhir(patient_a=OK), post=POST_ONLY, objects={"resource_id": "exam.public_id"}
    ),
    "fhir_observation_search": Rule(get=roles(OK, anonymous=UNAUTHORIZED), post=POST_ONLY),
    "fhir_observation": Rule(
        get=fhir(patient_a=OK), post=POST_ONLY, objects={"resource_id": "observation.public_id"}
    ),
    # A clinic system's transaction Bundle: only a results.write token of the visit's hospital
    # writes; a session (anyone's, A's doctor's too) is a 403 and nothing is written.
    "fhir_transaction": Rule(
        get=roles(NOT_ALLOWED),
        post=roles(FORBIDDEN, anonymous=UNAUTHORIZED),
        payload=fhir_results_bundle,
    ),
    # Family doctors (issue 20). The family's page: every account its own people; signing A's
    # child is A's (already signed: refused with a message), anyone else naming her a 404.
    "family_doctor": Rule(
        get=SIGNED_IN,
        post=roles(NOT_FOUND, anonymous=LOGIN, patient_a=DONE),
        form={"patient": "patient.public_id", "team": "family_team.public_id", "consent": "yes"},
    ),
    "family_signing_cancel": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=owner(outcome=REDIRECT),
        objects={"signing_id": "family_signing.public_id"},
    ),
    # The team's side: its GP (A's treating doctor) only; every other account a 404.
    "family_teams_mine": Rule(
        get=roles(OK, anonymous=LOGIN, doctor_care=REDIRECT), post=SIGNED_IN_POST_ONLY
    ),
    "family_panel": Rule(
        get=doctor(), post=SIGNED_IN_POST_ONLY, objects={"team_id": "family_team.public_id"}
    ),
    "family_member": Rule(
        get=doctor(),
        post=SIGNED_IN_POST_ONLY,
        objects={"team_id": "family_team.public_id", "signing_id": "family_signing.public_id"},
    ),
    "family_plan_set": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"team_id": "family_team.public_id", "signing_id": "family_signing.public_id"},
        form={"label": "BP", "interval_months": "3"},
    ),
    "family_book": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(DONE),
        objects={"team_id": "family_team.public_id", "signing_id": "family_signing.public_id"},
        form={"slot": "spare.pk"},
    ),
    "family_task_done": Rule(
        get=SIGNED_IN_POST_ONLY,
        post=doctor(REDIRECT),
        objects={"team_id": "family_team.public_id", "task_id": "followup_task.public_id"},
    ),
    # The console's teams are a clinic's: X is the cloud hospital, so a 404 even for its admins
    # (tests/familydoctors/test_pages.py covers a clinic's admin).
    "console_family_teams": Rule(get=console(NOT_FOUND), post=console(NOT_FOUND)),
    "console_family_team": Rule(
        get=console(NOT_FOUND),
        post=console(NOT_FOUND),
        objects={"team_id": "family_team.pk"},
    ),
    "fhir/^(?P<rest>.*)$": Rule(get=roles(NOT_FOUND), post=roles(NOT_FOUND)),
}

# Third-party route families, covered as a group: what a route of the family answers each
# role, with its path parameters filled with values that name nothing. Canaries are checked
# on every answer as everywhere else.
GROUPS: dict[str, Rule] = {
    # allauth: sign-in, sign-up, e-mail, password and MFA pages.
    "allauth.": Rule(get=roles(ANY)),
    # The Django admin: platform admins only (its login goes through allauth).
    "django.contrib.admin": Rule(get=roles(REFUSED, platform_admin=ANY)),
}

# WebSocket routes: "accept" (the socket stays open), or the close code a role gets.
WEBSOCKETS: dict[str, dict[str, object]] = {
    "ws:ws/consult/<str:public_id>/": {
        "roles": roles(4403, patient_a="accept", doctor_care="accept"),  # type: ignore[arg-type]
        "objects": {"public_id": "consultation.public_id"},
    },
    "ws:ws/text-consults/<uuid:public_id>/": {
        "roles": roles(4403, patient_a="accept", doctor_care="accept"),  # type: ignore[arg-type]
        "objects": {"public_id": "text_thread.public_id"},
    },
    "ws:ws/notifications/": {"roles": roles("accept", anonymous=4403)},  # type: ignore[arg-type]
    "ws:ws/slots/doctor/<int:doctor_id>/": {"roles": roles("accept")},  # type: ignore[arg-type]
    # X's waiting-room display: X's desk and admin, and platform admins.
    "ws:ws/desk/display/<slug:slug>/": {
        "roles": roles(  # type: ignore[arg-type]
            4403, admin_x="accept", desk_x="accept", platform_admin="accept"
        ),
        "objects": {"slug": "hospital.slug"},
    },
}


def group_of(route) -> str | None:
    for prefix in GROUPS:
        if route.module.startswith(prefix):
            return prefix
    if route.pattern.startswith("admin/"):
        return "django.contrib.admin"
    return None
