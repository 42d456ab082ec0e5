"""The account (phone-first user model) and its personal access tokens: the bottom of the
layers after audit, so every app may point at an account (DESIGN.md §2)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str | None, password: str | None, **extra: object) -> User:
        # Phone-first: a patient may have no e-mail at all (stored as NULL, never "", so the
        # unique constraint holds only among addresses that exist).
        if not email and not extra.get("phone"):
            raise ValueError("An account needs an e-mail address or a mobile number.")
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account: it signs in with its mobile number or its e-mail and acts for one or more
    patients. A patient may have no e-mail; staff keep a verified one (portal/adapters.py)."""

    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    # Whether `email` is confirmed (allauth's EmailAddress, mirrored by
    # accounts.services.account_email_verified_sync): nothing is sent to an unconfirmed address,
    # and a batch of messages reads it without a query per person.
    email_verified = models.BooleanField(_("e-mail verified"), default=False, editable=False)
    name = models.CharField(_("name"), max_length=150, blank=True)
    # E.164 (+8613812345678); verified by an SMS code through allauth's phone flow.
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    # The channels the person chose for messages about their appointments (the inbox always
    # gets them; a stop-clinic notice always goes by SMS to a verified number).
    message_by_email = models.BooleanField(_("messages by e-mail"), default=True)
    message_by_sms = models.BooleanField(_("messages by text message"), default=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can sign in to the platform administration."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            # A verified number belongs to one account: monthly booking caps count per phone.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(phone_verified=True),
                name="user_verified_phone_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"account {self.pk}"

    def save(self, *args, **kwargs) -> None:
        # A form's empty e-mail field gives "": store NULL, so many accounts may lack one.
        if not self.email:
            self.email = None
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name or str(self)

    def get_short_name(self) -> str:
        if self.name:
            return self.name
        return self.email.split("@")[0] if self.email else str(self)


class PersonalAccessToken(models.Model):
    """A secret an API client (a family's health app, a script) sends as `Authorization: Bearer
    …` to act for its account on /fhir/. Only a SHA-256 of the secret is stored, so a leaked
    database gives no working token; each token expires and can be revoked on /me/api-tokens/."""

    PREFIX = "chp_"
    MAX_DAYS = 365

    class Scope(models.TextChoices):
        # Everything the account itself may do on /fhir/ (a family's health app).
        ACCOUNT = "account", _("act for this account")
        # A clinic's system: POST results (a transaction Bundle) for visits of one hospital,
        # nothing else (issue 15).
        RESULTS_WRITE = "results.write", _("write results for one hospital")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=60)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, shown in the list so the owner can tell tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    scope = models.CharField(
        _("scope"), max_length=16, choices=Scope.choices, default=Scope.ACCOUNT
    )
    # The hospital a results.write token writes for, by id: accounts sits below hospitals in
    # the layers, so no foreign key; the owner's membership there is checked at every use.
    scope_hospital_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="access_token_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(scope="account", scope_hospital_id__isnull=True)
                | Q(scope="results.write", scope_hospital_id__isnull=False),
                name="access_token_scope_hospital",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def is_live(self, at=None) -> bool:
        return self.revoked_at is None and (at or timezone.now()) < self.expires_at
