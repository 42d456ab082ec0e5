"""The two reads every signed-in request makes before its view, as fixed SQL (issue 16).

Django's database sessions and its model backend each compile a queryset per request: in the
profile of a rush's sold-out POST the session's and the account's reads were a fifth of the
request's CPU, nearly all of it building SQL that never changes. Here the same reads are fixed
text with server-side parameters (appointments.fixed_sql, prepared per connection), and the
account's row comes with its hospital roles, which `RequireMFAMiddleware` asks on every request
(`hospitals.selectors.hospital_roles` reads `_hospital_roles` when it is set). On SQLite both
are Django's own session code and one raw statement for the account and its roles.
tests/portal/test_request_reads.py holds them equal to it."""

from __future__ import annotations

import json
import logging

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from appointments import fixed_sql

_SESSION = (
    "SELECT session_key, session_data, expire_date FROM django_session "
    "WHERE session_key = %(key)s AND expire_date > %(now)s"
)


class SessionStore(db.SessionStore):
    """Django's database session store, with its load as fixed text."""

    def _get_session_from_db(self):
        if not fixed_sql.postgresql():
            return super()._get_session_from_db()
        try:
            key = self.session_key
            rows = fixed_sql.run(_SESSION, {"key": key, "now": timezone.now()}) if key else []
        except SuspiciousOperation as e:  # pragma: no cover - what Django's own load logs
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            rows = []
        if not rows:
            self._session_key = None
            return None
        key, data, expire = rows[0]
        return Session(session_key=key, session_data=data, expire_date=expire)


_USER_AND_ROLES: list[str] = []


def _user_and_roles_sql() -> str:
    if not _USER_AND_ROLES:
        user = get_user_model()
        _USER_AND_ROLES.append(
            f"SELECT {fixed_sql.columns(user, 'u')}, "  # noqa: S608 (column names; values are parameters)
            "ARRAY(SELECT DISTINCT m.role FROM hospitals_staffmembership m "
            f"WHERE m.user_id = u.id) FROM {user._meta.db_table} u WHERE u.id = %(id)s"
        )
    return _USER_AND_ROLES[0]


class _AccountRead:
    """`get_user` as one fixed statement: the account's row and its hospital roles."""

    def get_user(self, user_id):
        if fixed_sql.postgresql():
            rows = fixed_sql.run(_user_and_roles_sql(), {"id": user_id})
            if not rows:
                return None
            user = fixed_sql.loaded(get_user_model(), rows[0])
            user._hospital_roles = frozenset(rows[0][-1])
        else:
            # SQLite: the same one statement, the roles as a JSON array.
            table = get_user_model()._meta.db_table
            found = list(
                get_user_model().objects.raw(
                    f"SELECT u.*, (SELECT json_group_array(DISTINCT m.role) "  # noqa: S608 (a table name)
                    f"FROM hospitals_staffmembership m WHERE m.user_id = u.id) AS roles_json "
                    f"FROM {table} u WHERE u.id = %s",
                    [user_id],
                )
            )
            if not found:
                return None
            user = found[0]
            user._hospital_roles = frozenset(json.loads(user.__dict__.pop("roles_json")))
        return user if self.user_can_authenticate(user) else None


class PortalModelBackend(_AccountRead, ModelBackend):
    """django.contrib.auth's ModelBackend (passwords), with the account read above."""


class PortalAllauthBackend(_AccountRead, AllauthBackend):
    """allauth's backend (e-mail or phone and code), with the account read above."""
