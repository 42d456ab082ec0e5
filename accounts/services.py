"""Verbs of accounts: personal access tokens for API clients."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import PersonalAccessToken, User
from audit.services import audit_record

# How long a new token may live, in days; the form offers these.
ACCESS_TOKEN_DAYS = (7, 30, 90, 365)
ACCESS_TOKENS_PER_ACCOUNT = 10
# A token's last use is written at most this often, so a busy client does not write every call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def access_token_create(
    *,
    owner: Any,
    name: str,
    days: int,
    scope: str = PersonalAccessToken.Scope.ACCOUNT,
    scope_hospital_id: int | None = None,
) -> tuple[PersonalAccessToken, str]:
    """Issue a token and return it with its secret, which is shown once and never stored.

    A `results.write` token names the hospital it writes for; the caller has checked that the
    owner works there (and the FHIR endpoint checks it again at every use)."""
    if (scope == PersonalAccessToken.Scope.RESULTS_WRITE) != (scope_hospital_id is not None):
        raise ValueError("a results.write token names one hospital; no other token does")
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the token a name, such as the app that will use it."))
    if days not in ACCESS_TOKEN_DAYS:
        raise ValidationError(_("Choose how long the token lasts."))
    secret = PersonalAccessToken.PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        live = (
            PersonalAccessToken.objects.select_for_update()
            .filter(owner=owner, revoked_at__isnull=True, expires_at__gt=now)
            .count()
        )
        if live >= ACCESS_TOKENS_PER_ACCOUNT:
            raise ValidationError(
                _("You have %(n)d active tokens, the most allowed. Revoke one first."),
                params={"n": ACCESS_TOKENS_PER_ACCOUNT},
            )
        token = PersonalAccessToken.objects.create(
            owner=owner,
            name=name[:60],
            token_hash=PersonalAccessToken.hash_secret(secret),
            hint=secret[: len(PersonalAccessToken.PREFIX) + 4],
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
            scope=scope,
            scope_hospital_id=scope_hospital_id,
        )
        audit_record(
            actor=owner,
            action="access_token.create",
            target=owner,
            data={
                "token_id": token.pk,
                "expires_at": token.expires_at.isoformat(),
                "scope": scope,
                "hospital": scope_hospital_id,
            },
        )
    return token, secret


def access_token_revoke(*, token: PersonalAccessToken, by: Any) -> PersonalAccessToken:
    """Revoke a token now; a revoked token is refused at the very next request."""
    with transaction.atomic():
        updated = PersonalAccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
        if updated:
            audit_record(
                actor=by,
                action="access_token.revoke",
                target=token.owner,
                data={"token_id": token.pk},
            )
    return token


def access_tokens_revoke_all(*, owner: Any, why: str) -> int:
    """Revoke every live token of an account (its password changed: whoever had the old one
    may hold a token too). Returns how many were revoked."""
    with transaction.atomic():
        ids = list(
            PersonalAccessToken.objects.select_for_update()
            .filter(owner=owner, revoked_at__isnull=True, expires_at__gt=timezone.now())
            .values_list("pk", flat=True)
        )
        if ids:
            PersonalAccessToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now())
            audit_record(
                actor=owner,
                action="access_token.revoke",
                target=owner,
                data={"token_ids": ids, "why": why},
            )
    return len(ids)


def access_token_authenticate(*, secret: str) -> PersonalAccessToken | None:
    """The live token with this secret (its owner active), or None. Notes when it was used."""
    if not secret.startswith(PersonalAccessToken.PREFIX) or len(secret) > 100:
        return None
    now = timezone.now()
    token = (
        PersonalAccessToken.objects.select_related("owner")
        .filter(
            token_hash=PersonalAccessToken.hash_secret(secret),
            revoked_at__isnull=True,
            expires_at__gt=now,
            owner__is_active=True,
        )
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def account_email_verified_sync(*, user_id: int) -> bool:
    """Mirror allauth's record of the account's own address onto `User.email_verified`
    (called whenever an EmailAddress row is saved or deleted). Returns the new value."""
    from allauth.account.models import EmailAddress

    user = User.objects.filter(pk=user_id).only("email").first()
    if user is None:
        return False
    verified = bool(user.email) and (
        EmailAddress.objects.filter(
            user_id=user_id, email__iexact=user.email, verified=True
        ).exists()
    )
    User.objects.filter(pk=user_id).update(email_verified=verified)
    return verified


def account_message_channels_set(*, account: Any, by_email: bool, by_sms: bool) -> Any:
    """The channels a person wants messages about their appointments on (the inbox always
    gets them; a stop-clinic notice goes by SMS to a verified number whatever they chose)."""
    with transaction.atomic():
        account.message_by_email, account.message_by_sms = by_email, by_sms
        account.save(update_fields=["message_by_email", "message_by_sms"])
        audit_record(
            actor=account,
            action="account.message_channels",
            target=account,
            data={"email": by_email, "sms": by_sms},
        )
    return account
