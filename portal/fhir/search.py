"""Search parameters and paging for /fhir/: every parameter a search does not know is a 400
(OperationOutcome), never silently ignored; pages are keyset pages with a `_cursor`."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Parameters every interaction accepts.
COMMON_PARAMS = ("_format",)
JSON_FORMATS = ("json", "application/json", "application/fhir+json")

_DATE = re.compile(r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb)?(?P<value>\d{4}-\d{2}-\d{2}(T.+)?)$")
_CURSOR = re.compile(r"^(?P<key>[0-9.\-]{1,40})$")
# An id or a count as a client writes it: ASCII digits, at most 18 of them. Not str.isdigit(),
# which also takes "²" and "①" (int() refuses both: a 500), nor an unbounded length (int()
# refuses more than 4300 digits; 18 always fit a bigint).
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def whole_number(value: str) -> int | None:
    """The number `value` writes, or None when it is not a plain whole number."""
    return int(value) if _WHOLE_NUMBER.fullmatch(value) else None


class SearchError(Exception):
    """A request the server cannot understand: 400 with this message."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def check_params(
    request: HttpRequest, allowed: Iterable[str], *, sort_keys: tuple[str, ...] = ()
) -> None:
    allowed = set(allowed) | set(COMMON_PARAMS)
    if sort_keys:
        allowed.add("_sort")
    for name in request.GET:
        if name not in allowed:
            raise SearchError(
                _("Unknown search parameter “%(name)s”. This search accepts: %(allowed)s.")
                % {"name": name, "allowed": ", ".join(sorted(allowed))}
            )
    for raw in request.GET.getlist("_sort"):
        for key in raw.split(","):
            if key not in sort_keys:
                raise SearchError(
                    _("Cannot sort by “%(key)s”. Results can be sorted by: %(keys)s.")
                    % {"key": key, "keys": ", ".join(sort_keys)}
                )


def one(request: HttpRequest, name: str) -> str | None:
    values = request.GET.getlist(name)
    if len(values) > 1:
        raise SearchError(_("Give “%(name)s” once.") % {"name": name})
    return values[0] if values else None


def values(request: HttpRequest, name: str) -> list[str]:
    """Every value of a parameter: repeated parameters and comma-separated values, any of
    which may match (FHIR's OR)."""
    result = []
    for raw in request.GET.getlist(name):
        result.extend(part.strip() for part in raw.split(",") if part.strip())
    return result


def count(request: HttpRequest) -> int:
    raw = one(request, "_count")
    if raw is None:
        return DEFAULT_COUNT
    number = whole_number(raw)
    if number is None or not 1 <= number <= MAX_COUNT:
        raise SearchError(
            _("“_count” must be a whole number from 1 to %(max)d.") % {"max": MAX_COUNT}
        )
    return number


def reference_id(value: str, resource_type: str) -> str:
    """`Patient/abc` or `abc` → `abc`; another type or an absolute URL is refused."""
    if "/" in value:
        kind, _slash, ident = value.partition("/")
        if kind != resource_type or not ident or "/" in ident:
            raise SearchError(
                _("“%(value)s” is not a reference to a %(type)s.")
                % {"value": value, "type": resource_type}
            )
        return ident
    return value


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _parse_moment(value: str) -> tuple[dt.datetime, dt.datetime]:
    """[begin, end) of a FHIR date or dateTime; a time without a zone is the city's."""
    try:
        if "T" not in value:
            day = dt.date.fromisoformat(value)
            begin = dt.datetime.combine(day, dt.time.min, tzinfo=_zone())
            return begin, begin + dt.timedelta(days=1)
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone())
        return moment, moment + dt.timedelta(seconds=1)
    # OverflowError: 9999-12-31 parses, but the day (or second) after it, the end of the
    # period, is past the last date Python can write.
    except (ValueError, OverflowError):
        raise SearchError(
            _(
                "“%(value)s” is not a date (2026-12-01) or a date and time "
                "(2026-12-01T08:00:00+08:00)."
            )
            % {"value": value}
        ) from None


def date_filters(request: HttpRequest, name: str, field: str) -> list[Q]:
    """`start=ge2026-12-01&start=lt2026-12-08`: each value one condition, all must hold."""
    conditions = []
    for raw in request.GET.getlist(name):
        match = _DATE.match(raw.strip())
        if match is None:
            raise SearchError(
                _("“%(value)s” is not a date search: use e.g. %(name)s=ge2026-12-01.")
                % {"value": raw, "name": name}
            )
        prefix = match.group("prefix") or "eq"
        begin, end = _parse_moment(match.group("value"))
        if prefix == "eq":
            conditions.append(Q(**{f"{field}__gte": begin, f"{field}__lt": end}))
        elif prefix == "ne":
            conditions.append(~Q(**{f"{field}__gte": begin, f"{field}__lt": end}))
        elif prefix in ("gt", "sa"):
            conditions.append(Q(**{f"{field}__gte": end}))
        elif prefix == "ge":
            conditions.append(Q(**{f"{field}__gte": begin}))
        elif prefix in ("lt", "eb"):
            conditions.append(Q(**{f"{field}__lt": begin}))
        else:  # le
            conditions.append(Q(**{f"{field}__lt": end}))
    return conditions


def cursor(request: HttpRequest) -> str | None:
    raw = one(request, "_cursor")
    if raw is None:
        return None
    if _CURSOR.match(raw) is None:
        raise SearchError(_("This page link is not valid; start the search again."))
    return raw


def time_cursor_filter(raw: str | None, field: str) -> Q:
    """Rows after the cursor `<microseconds since the epoch>.<pk>` in (field, pk) order."""
    if raw is None:
        return Q()
    micros, _dot, pk = raw.partition(".")
    try:
        moment = dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.UTC)
        key = int(pk)
    except (ValueError, OverflowError):
        raise SearchError(_("This page link is not valid; start the search again.")) from None
    return Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": key})


def time_cursor(moment: dt.datetime, pk: int) -> str:
    micros = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return f"{micros}.{pk}"


def pk_cursor_filter(raw: str | None) -> Q:
    if raw is None:
        return Q()
    after = whole_number(raw)
    if after is None:
        raise SearchError(_("This page link is not valid; start the search again."))
    return Q(pk__gt=after)


def page(
    rows: Iterable[Any], *, size: int, key: Callable[[Any], str]
) -> tuple[list[Any], str | None]:
    """Take one page (the caller fetched size + 1 rows) and the cursor of the next, if any."""
    rows = list(rows)
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, key(rows[-1])


def page_links(request: HttpRequest, next_cursor: str | None) -> dict[str, str]:
    base = request.build_absolute_uri(request.path)
    params: QueryDict = request.GET.copy()
    links = {"self": base + (f"?{params.urlencode()}" if params else "")}
    if next_cursor is not None:
        params.setlist("_cursor", [next_cursor])
        links["next"] = f"{base}?{urlencode(list(params.lists()), doseq=True)}"
    return links
