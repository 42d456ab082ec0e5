"""Who the portal treats as what. Higher apps may extend these; lower apps never import them."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from hospitals.selectors import user_is_hospital_staff


def requires_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Platform staff and every hospital staff member (doctor, front desk, hospital admin) must
    hold a second factor before they reach any page but MFA set-up itself."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or user_is_hospital_staff(user=user))


def second_factor_missing(user: AbstractBaseUser | AnonymousUser) -> bool:
    """The account must hold a second factor and has none: pages send it to TOTP set-up,
    sockets refuse it. One rule for both, so a page and its socket never disagree."""
    return requires_mfa(user) and not is_mfa_enabled(user)
