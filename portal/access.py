"""Who the portal treats as what. Higher apps may extend these; lower apps never import them."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser


def requires_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Staff must hold a second factor before they reach any page but MFA set-up itself.

    The directory issue widens this to doctors, front desk and hospital admins.
    """
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))
