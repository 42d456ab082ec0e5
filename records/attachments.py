"""Attachments in a person's record: what may be uploaded, by whom, and how it is stored.

The type of a file is decided from its bytes (magic numbers, and Pillow's verify for images),
never from its name or the browser's content type; a name or content type that claims another
type is refused, so an HTML page renamed `.png` or a PDF sent as `image/png` never gets in.
Images are re-encoded with Pillow, which drops EXIF, GPS and text chunks. The file is stored
through Django's storage API under a random name (Attachment.file's upload_to) and only ever
served by a permission-checked download view as `Content-Disposition: attachment`.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from audit.services import audit_record
from records.models import Attachment, Encounter, Patient
from records.selectors import account_acts_for

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

# What each type may be called: the extensions and browser content types that agree with it.
EXTENSIONS = {PDF: {"pdf"}, JPEG: {"jpg", "jpeg"}, PNG: {"png"}}
CLAIMED_TYPES = {PDF: {PDF}, JPEG: {JPEG, "image/pjpeg"}, PNG: {PNG, "image/x-png"}}
# Browsers send this for files they cannot name; it claims nothing.
NEUTRAL_TYPES = {"", "application/octet-stream"}

NOT_ALLOWED = _("Only PDF, JPEG and PNG files can be added to the record.")
SPOOFED = _(
    "This file's content is not what its name or type says. Only real PDF, JPEG and PNG files "
    "can be added."
)
DAMAGED = _("This image could not be read. It may be damaged; try saving it again.")
EMPTY = _("The file is empty.")
TOO_LARGE = _("The file is too large: at most %(mb)d MB.")
NOT_YOURS = _("You cannot add files to this record.")
ENCOUNTER_CLOSED = _("Files can be added to an encounter only while it is open.")

# A decompression bomb is refused rather than re-encoded (Pillow's default is ~89 Mpx).
MAX_PIXELS = 40_000_000
JPEG_MODES = {"L", "RGB", "CMYK"}


def max_bytes() -> int:
    return int(getattr(settings, "RECORDS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def sniff_type(head: bytes) -> str | None:
    """The type the first bytes of a file prove, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _claims_agree(detected: str, *, name: str, claimed_type: str) -> bool:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension and extension not in EXTENSIONS[detected]:
        return False
    claimed_type = (claimed_type or "").split(";")[0].strip().lower()
    return claimed_type in NEUTRAL_TYPES or claimed_type in CLAIMED_TYPES[detected]


def _reencode(data: bytes, content_type: str) -> bytes:
    """The image drawn again from its pixels: no EXIF, GPS, XMP, ICC or text chunks survive."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(DAMAGED, code="damaged")
            expected = "JPEG" if content_type == JPEG else "PNG"
            if image.format != expected:
                raise ValidationError(SPOOFED, code="spoofed")
            image.load()
            # Turn the pixels as the camera meant before the orientation tag goes.
            upright = ImageOps.exif_transpose(image)
            if upright.mode == "P" or (content_type == JPEG and upright.mode not in JPEG_MODES):
                upright = upright.convert("RGBA" if content_type == PNG else "RGB")
            # A new image from the pixels alone: `info` (EXIF, XMP, ICC, text) is not copied.
            clean = Image.new(upright.mode, upright.size)
            clean.paste(upright)
            out = io.BytesIO()
            if content_type == JPEG:
                clean.save(out, format="JPEG", quality=90)
            else:
                clean.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(DAMAGED, code="damaged") from None


def attachment_clean(*, upload: Any) -> tuple[bytes, str]:
    """The bytes to store and their content type, or a ValidationError saying why not.

    `upload` is an UploadedFile (or anything with `name`, `size`, `content_type`, `read`)."""
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(TOO_LARGE, params={"mb": limit // (1024 * 1024)}, code="too_large")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(TOO_LARGE, params={"mb": limit // (1024 * 1024)}, code="too_large")
    if not data:
        raise ValidationError(EMPTY, code="empty")
    detected = sniff_type(data[:16])
    if detected is None:
        # An HTML page, a script, an office file… whatever it claims to be.
        claimed = sniff_claim(upload)
        raise ValidationError(SPOOFED if claimed else NOT_ALLOWED, code="not_allowed")
    if not _claims_agree(
        detected, name=upload.name or "", claimed_type=getattr(upload, "content_type", "")
    ):
        raise ValidationError(SPOOFED, code="spoofed")
    if detected in (JPEG, PNG):
        data = _reencode(data, detected)
    elif b"%%EOF" not in data[-2048:]:
        raise ValidationError(DAMAGED, code="damaged")
    return data, detected


def sniff_claim(upload: Any) -> str | None:
    """The allowed type the name or browser claims, if any (to word the refusal)."""
    name = (upload.name or "").lower()
    for content_type, extensions in EXTENSIONS.items():
        if any(name.endswith("." + ext) for ext in extensions):
            return content_type
    claimed = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    for content_type, claims in CLAIMED_TYPES.items():
        if claimed in claims:
            return content_type
    return None


def _display_name(name: str, content_type: str) -> str:
    """The uploaded name for display and the download's filename: no path, a sane length and
    the extension of the type it really is."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = "".join(ch for ch in stem if ch.isprintable() and ch not in '"<>')[:150] or "file"
    extension = {PDF: "pdf", JPEG: "jpg", PNG: "png"}[content_type]
    return f"{stem}.{extension}"


def _store(
    *,
    patient: Patient,
    upload: Any,
    uploaded_by: Any,
    title: str,
    encounter: Encounter | None,
) -> Attachment:
    data, content_type = attachment_clean(upload=upload)
    attachment = Attachment(
        patient=patient,
        encounter=encounter,
        hospital=encounter.hospital if encounter is not None else None,
        uploaded_by=uploaded_by,
        original_name=_display_name(upload.name or "", content_type),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        title=(title or "").strip()[:120],
    )
    # The stored name comes from upload_to (a random hex under the person's folder), never
    # from the uploaded name.
    attachment.file.save("upload", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            attachment.save()
            audit_record(
                actor=uploaded_by,
                action="attachment.add",
                target=attachment,
                on_behalf_of=patient,
                data={
                    "content_type": content_type,
                    "size": len(data),
                    "encounter": str(encounter.public_id) if encounter else None,
                },
            )
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


def attachment_add_by_patient(
    *,
    patient: Patient,
    account: Any,
    upload: Any,
    title: str = "",
) -> Attachment:
    """An account that reads the person's record adds a file to it (no encounter, no
    hospital: every reader of the record sees it)."""
    if not account_acts_for(account=account, patient=patient, can_read=True):
        raise ValidationError(NOT_YOURS, code="not_linked")
    return _store(
        patient=patient,
        upload=upload,
        uploaded_by=account,
        title=title,
        encounter=None,
    )


def attachment_add_to_encounter(
    *,
    encounter: Encounter,
    doctor_account: Any,
    upload: Any,
    title: str = "",
) -> Attachment:
    """The encounter's own doctor adds a file to it while it is open."""
    if encounter.doctor.user_id is None or encounter.doctor.user_id != doctor_account.pk:
        raise ValidationError(NOT_YOURS, code="not_doctor")
    if not encounter.is_open:
        raise ValidationError(ENCOUNTER_CLOSED, code="closed")
    return _store(
        patient=encounter.patient,
        upload=upload,
        uploaded_by=doctor_account,
        title=title,
        encounter=encounter,
    )
