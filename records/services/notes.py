"""Clinical notes: a draft by its author, signed once, then corrected only by addenda."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.errors import clinical_refusal
from records.models import ClinicalNote, Encounter, NoteAddendum
from records.services.encounters import (
    clinical_audit,
    clinical_full_clean,
    encounter_require_writable,
)

NOTE_FIELDS = ("subjective", "objective", "assessment", "plan", "diagnosis", "icd10_code")


def _clean_note_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    values = {name: str(fields.get(name) or "").strip() for name in NOTE_FIELDS}
    values["icd10_code"] = values["icd10_code"].upper()
    return values


def note_save(
    *,
    encounter: Encounter,
    author: Any,
    note: ClinicalNote | None = None,
    **fields: Any,
) -> ClinicalNote:
    """Create the author's draft note, or update `note` while it is a draft. Fields are the
    SOAP parts, `diagnosis` and an optional `icd10_code`."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise TypeError(f"unknown note fields: {sorted(unknown)}")
    values = _clean_note_fields(fields)
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=author)
        if note is None:
            note = ClinicalNote(encounter=encounter, author=author)
            created = True
        else:
            note = ClinicalNote.objects.select_for_update().get(pk=note.pk)
            if note.encounter_id != encounter.pk or note.author_id != author.pk:
                raise clinical_refusal(_("Only the note's author can change it."), "not_author")
            if note.is_signed:
                raise clinical_refusal(
                    _("A signed note is never changed. Add an addendum instead."), "signed"
                )
            created = False
        for name, value in values.items():
            setattr(note, name, value)
        clinical_full_clean(note, exclude=["encounter", "author"])
        note.save()
        clinical_audit(
            author,
            "note.create" if created else "note.update",
            note,
            encounter.patient,
            encounter=encounter.pk,
        )
    return note


def note_sign(*, note: ClinicalNote, by: Any) -> ClinicalNote:
    """Sign a draft note; from then on it is read-only. The author may sign after the
    encounter closed."""
    with transaction.atomic():
        note = (
            ClinicalNote.objects.select_for_update(of=("self",))
            .select_related("encounter__patient")
            .get(pk=note.pk)
        )
        if note.author_id != getattr(by, "pk", None):
            raise clinical_refusal(_("Only the note's author can sign it."), "not_author")
        if note.is_signed:
            return note
        if not any(
            getattr(note, name)
            for name in ("subjective", "objective", "assessment", "plan", "diagnosis")
        ):
            raise clinical_refusal(_("Write the note before signing it."), "empty")
        note.signed_at = timezone.now()
        note.save(update_fields=["signed_at", "updated_at"])
        clinical_audit(by, "note.sign", note, note.encounter.patient, encounter=note.encounter_id)
    return note


def note_addendum_add(*, note: ClinicalNote, author: Any, text: str) -> NoteAddendum:
    """A correction or addition to a signed note, by its author, shown beside it."""
    text = (text or "").strip()
    if not text:
        raise clinical_refusal(_("Write the addendum."), "empty")
    if len(text) > 4000:
        raise clinical_refusal(_("An addendum holds at most 4,000 characters."), "too_long")
    with transaction.atomic():
        note = (
            ClinicalNote.objects.select_for_update(of=("self",))
            .select_related("encounter__patient")
            .get(pk=note.pk)
        )
        if note.author_id != getattr(author, "pk", None):
            raise clinical_refusal(_("Only the note's author can add an addendum."), "not_author")
        if not note.is_signed:
            raise clinical_refusal(
                _("Edit the draft itself; addenda are for signed notes."), "draft"
            )
        addendum = NoteAddendum.objects.create(note=note, author=author, text=text)
        clinical_audit(author, "note.addendum", addendum, note.encounter.patient, note=note.pk)
    return addendum
