"""Who the portal treats as what. Higher apps may extend these; lower apps never import them."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from hospitals.selectors import user_is_hospital_staff


def requires_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Platform staff and every hospital staff member (doctor, front desk, hospital admin) must
    hold a second factor before they reach any page but MFA set-up itself."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or user_is_hospital_staff(user=user))
