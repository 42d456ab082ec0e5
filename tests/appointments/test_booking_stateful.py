"""Random sequences of hold / book / cancel / reschedule / hold expiry against a simple model;
after every step the database agrees with the model and the counter invariant holds."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from appointments.models import ACTIVE_STATUSES, Appointment, Hold, Slot
from appointments.services import (
    BookingRefused,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    hold_create,
    release_expired_holds,
)
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.factories import DoctorFactory, HospitalFactory

ACCOUNTS = 4
SLOTS = 3


class Booking(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example in a savepoint rolled back at its end: examples never see each other.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.traveller = time_machine.travel(timezone.now(), tick=False)
        self.clock = self.traveller.start()
        hospital = HospitalFactory(monthly_cap_per_account=100, monthly_cap_per_phone=100)
        self.slots = []
        for index in range(SLOTS):
            # A day apart and each with its own doctor and department: only the slot's own
            # places and "one place per person per slot" decide.
            doctor = DoctorFactory(department__hospital=hospital, hospital=hospital, user=None)
            start = timezone.now() + dt.timedelta(days=3 + index)
            self.slots.append(
                open_slot(
                    doctor=doctor,
                    start=start,
                    end=start + dt.timedelta(minutes=30),
                    capacity=2,
                )
            )
        self.people = [person() for _index in range(ACCOUNTS)]
        # The model: active appointments (pk → (account index, slot index)), live holds
        # (account index → slot index).
        self.active: dict[int, tuple[int, int]] = {}
        self.holds: dict[int, int] = {}

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    def free(self, s: int) -> int:
        taken = sum(1 for _a, slot in self.active.values() if slot == s)
        taken += sum(1 for slot in self.holds.values() if slot == s)
        return self.slots[s].capacity - taken

    def has_active(self, a: int, s: int) -> bool:
        return (a, s) in self.active.values()

    @rule(a=st.integers(0, ACCOUNTS - 1), s=st.integers(0, SLOTS - 1))
    def hold(self, a: int, s: int) -> None:
        _patient, account = self.people[a]
        if self.holds.get(a) == s:
            expect = True
        else:
            previous = self.holds.pop(a, None)
            expect = self.free(s) > 0
            if not expect and previous is not None:
                self.holds[a] = previous  # refused: the transaction keeps the old hold
        try:
            hold_create(slot=self.slots[s], account=account)
            outcome = True
        except BookingRefused:
            outcome = False
        assert outcome == expect
        if outcome:
            self.holds[a] = s

    @rule(a=st.integers(0, ACCOUNTS - 1), s=st.integers(0, SLOTS - 1))
    def book(self, a: int, s: int) -> None:
        patient, account = self.people[a]
        held = self.holds.get(a) == s
        expect = not self.has_active(a, s) and (held or self.free(s) > 0)
        try:
            appointment = appointment_book(patient=patient, slot=self.slots[s], booked_by=account)
        except BookingRefused:
            assert not expect
            return
        assert expect
        self.active[appointment.pk] = (a, s)
        if held:
            del self.holds[a]

    @rule(data=st.data())
    def cancel(self, data) -> None:
        if not self.active:
            return
        pk = data.draw(st.sampled_from(sorted(self.active)))
        a, _s = self.active.pop(pk)
        appointment_cancel(
            appointment=Appointment.objects.get(pk=pk), by=self.people[a][1], reason="patient"
        )

    @rule(data=st.data(), s=st.integers(0, SLOTS - 1))
    def reschedule(self, data, s: int) -> None:
        if not self.active:
            return
        pk = data.draw(st.sampled_from(sorted(self.active)))
        a, old = self.active[pk]
        held = self.holds.get(a) == s
        expect = s != old and not self.has_active(a, s) and (held or self.free(s) > 0)
        try:
            new = appointment_reschedule(
                appointment=Appointment.objects.get(pk=pk),
                new_slot=self.slots[s],
                by=self.people[a][1],
            )
        except BookingRefused:
            assert not expect
            return
        assert expect
        del self.active[pk]
        self.active[new.pk] = (a, s)
        if held:
            del self.holds[a]

    @rule()
    def holds_expire(self) -> None:
        self.clock.shift(dt.timedelta(minutes=6))
        assert release_expired_holds() == len(self.holds)
        self.holds.clear()

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        slot_ids = [slot.pk for slot in self.slots]
        active = Appointment.objects.filter(slot_id__in=slot_ids, status__in=ACTIVE_STATUSES)
        assert set(active.values_list("pk", flat=True)) == set(self.active)
        live = Hold.objects.filter(slot_id__in=slot_ids, state="live").count()
        assert live == len(self.holds)
        for index, slot in enumerate(self.slots):
            counters_hold(slot)
            fresh = Slot.objects.get(pk=slot.pk)
            assert 0 <= fresh.booked <= fresh.capacity
            assert fresh.capacity - fresh.booked == self.free(index)


@pytest.mark.django_db
def test_random_booking_sequences_keep_the_counters_right():
    run_state_machine_as_test(
        Booking,
        settings=settings(max_examples=25, stateful_step_count=25, derandomize=True, deadline=None),
    )
