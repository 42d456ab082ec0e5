"""The people of a text consult (图文问诊): a parent, her child, a doctor who takes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from telemedicine.models import TextConsultOffer
from tests.appointments.conftest import person
from tests.records.conftest import doctor_account, jpeg_with_gps, png_bytes


@dataclass
class TextWorld:
    parent: Any
    child: Any
    doctor: Any
    doctor_user: Any
    offer: TextConsultOffer


def text_world(*, daily_limit: int = 5, price_note: str = "¥30 / consult") -> TextWorld:
    _me, parent = person(name="李丽")
    child, _ = person(parent, relationship="child", name="王小明", birth_date=dt.date(2019, 6, 1))
    doctor, doctor_user = doctor_account(name="周若溪", name_en="Zhou Ruoxi")
    offer = TextConsultOffer.objects.create(
        doctor=doctor, is_open=True, daily_limit=daily_limit, price_note=price_note
    )
    return TextWorld(
        parent=parent, child=child, doctor=doctor, doctor_user=doctor_user, offer=offer
    )


def photo(name: str = "rash.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_gps(), content_type="image/jpeg")


def png(name: str = "rash.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")
