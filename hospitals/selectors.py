from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from hospitals.models import Hospital, StaffMembership


def hospitals_managed_by(*, user) -> QuerySet[Hospital]:
    """The hospitals whose console this account may use: all for a platform admin, otherwise
    those where it holds a hospital_admin membership."""
    if not user.is_authenticated or not user.is_active:
        return Hospital.objects.none()
    if user.is_superuser:
        return Hospital.objects.all()
    return Hospital.objects.filter(
        memberships__user=user, memberships__role=StaffMembership.Role.HOSPITAL_ADMIN
    ).distinct()


def managed_hospital_or_404(*, user, slug: str) -> Hospital:
    """Another hospital's console is a 404, never a 403: it does not exist for this account."""
    return get_object_or_404(hospitals_managed_by(user=user), slug=slug)


def user_is_hospital_staff(*, user) -> bool:
    """Whether the account holds any staff membership (doctor, front desk, hospital admin)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_is_hospital_staff", None)
    if cached is None:
        cached = StaffMembership.objects.filter(user=user).exists()
        user._is_hospital_staff = cached
    return cached
