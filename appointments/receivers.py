"""What appointments answers or does when a lower app tells it something through its signals
or its models' saves (connected in AppointmentsConfig.ready): thin adapters from the signal's
arguments to our selectors and services."""

from __future__ import annotations

from typing import Any

from appointments.selectors.appointments import future_appointments_count
from appointments.selectors.slots import next_free_periods
from appointments.services.next_free import next_free_periods_district_follow


def next_free_periods_answer(sender: Any, *, doctors: list, **kwargs: Any) -> dict:
    """hospitals.signals.next_free_periods_wanted: each doctor's next bookable slot."""
    return next_free_periods(doctors=doctors)


def future_appointments_answer(sender: Any, *, patient: Any, **kwargs: Any) -> int:
    """records.signals.future_appointments_counted: the person's active appointments ahead."""
    return future_appointments_count(patient=patient)


def _saved(field: str, *, created: bool, raw: bool, update_fields: Any) -> bool:
    """Whether a post_save may have changed `field` of a row that existed before."""
    if created or raw:
        return False  # a new hospital or doctor has no NextFreePeriod rows yet
    return update_fields is None or bool({field, f"{field}_id"} & set(update_fields))


def hospital_saved(
    sender: Any, *, instance: Any, created: bool, raw: bool = False, update_fields=None, **kw: Any
) -> None:
    """post_save of hospitals.Hospital: its doctors' NextFreePeriod rows take its district."""
    if _saved("district", created=created, raw=raw, update_fields=update_fields):
        next_free_periods_district_follow(hospital_ids=[instance.pk])


def doctor_saved(
    sender: Any, *, instance: Any, created: bool, raw: bool = False, update_fields=None, **kw: Any
) -> None:
    """post_save of hospitals.Doctor: a doctor who moved hospital takes the new district."""
    if _saved("hospital", created=created, raw=raw, update_fields=update_fields):
        next_free_periods_district_follow(doctor_ids=[instance.pk])
