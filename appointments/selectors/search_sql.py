"""Search on PostgreSQL in one statement of fixed SQL text, prepared once per connection.

The ORM querysets of appointments.selectors.search say the same thing (and serve SQLite), but
building and compiling them cost most of a search above the database (profiled at 1,000,000
slots, per search under the profiler: 5.5 ms building, 7 ms compiling, 2 ms sending the long
inlined text, for 0.5–1.5 ms of execution). Here the text depends only on the shape of the
query (which filters, how many words), so it is built once per shape and cached, and it is
sent with server-side parameters: psycopg prepares it after `prepare_threshold` runs of the
same text on a connection (settings: DATABASE_PREPARE_THRESHOLD; unset it behind a PgBouncer
older than 1.21), and PostgreSQL then skips parsing and, once its generic plan holds, planning.

The rule of what is bookable is the ORM's (`slot_bookable_condition`), written out once here as
`_BOOKABLE` and checked against it by tests/appointments/test_search_sql.py; the public modes
come from `PUBLIC_MODES` as a parameter."""

from __future__ import annotations

import datetime as dt
from functools import cache
from operator import itemgetter

from django.conf import settings

from appointments import fixed_sql
from appointments.selectors.search_types import (
    DAY_PARTS,
    PAGE_ROWS,
    PERIODS_PER_DOCTOR,
    ResultDoctor,
    ResultPeriod,
    ResultPlace,
    SearchQuery,
    SearchResult,
    first_of_each_doctor,
    portal_zone,
    soonest,
)
from appointments.selectors.slots import PUBLIC_MODES
from hospitals.search_names import search_words

# A slot `s` a patient may book now (see slots.slot_bookable_condition).
_BOOKABLE = """
    s.release_at <= %(now)s AND s.start > %(now)s AND s.closed_at IS NULL
    AND s.mode = ANY(%(public_modes)s)
    AND (s.booked < s.capacity
         OR (s.referral_merge_at <= %(now)s AND s.referral_booked < s.referral_capacity))"""


# A word is the prefix of a suffix of a doctor's, department's or hospital's searched names
# (hospitals.search_names), found through their `text` pattern index.
_WORD = """(d.id IN (SELECT doctor_id FROM hospitals_doctorsearchname WHERE text LIKE %(WORD)s)
    OR d.department_id IN
       (SELECT department_id FROM hospitals_departmentsearchname WHERE text LIKE %(WORD)s)
    OR d.hospital_id IN
       (SELECT hospital_id FROM hospitals_hospitalsearchname WHERE text LIKE %(WORD)s))"""


def _doctor_condition(*, district: bool, title: bool, words: int) -> str:
    """What every search asks of the doctor `d` (with its hospital `h` and department `dep`)."""
    parts = ["d.is_active", "h.is_active", "dep.is_active"]
    if district:
        parts.append("h.district = %(district)s")
    if title:
        parts.append("d.title = %(title)s")
    parts.extend(_WORD.replace("WORD", f"word{index}") for index in range(words))
    return " AND ".join(parts)


_DOCTORS = """hospitals_doctor d
    JOIN hospitals_hospital h ON h.id = d.hospital_id
    JOIN hospitals_department dep ON dep.id = d.department_id"""


def _slot_match(*, day: bool, hours: bool, mode: bool) -> str:
    """What the patient asked of the period `s`: a day (a range of starts), a part of the day
    without a day (local hours), a mode."""
    parts = []
    if day:
        parts.append("s.start >= %(low)s AND s.start < %(high)s")
    if hours:
        parts.append(
            "EXTRACT(HOUR FROM s.start AT TIME ZONE %(zone)s) >= %(low_hour)s"
            " AND EXTRACT(HOUR FROM s.start AT TIME ZONE %(zone)s) < %(high_hour)s"
        )
    if mode:
        parts.append("s.mode = %(mode)s")
    return "".join(f" AND {part}" for part in parts)


@cache
def next_free_sql(*, district: bool, title: bool, words: int, mode: bool) -> str:
    """No date or part of the day: (doctor_id, first) from NextFreePeriod, the exact rows in
    order of (start, doctor) (at most `limit`: `exact_rows`), then the stale ones worked out
    from the slots.

    The district is asked of the row's copy (`n.district`), not of the hospital. Without words
    nearly every row's doctor passes, so the exact rows are read in that order from one
    index range (with a district and a mode `next_free_mode_district_idx`, else
    `next_free_start_idx`) and each row's doctor is checked by primary key as the row comes
    (`_checked`): the walk stops after about `limit` rows whatever the size of the city. As a
    join, the planner read every row of the district and hashed every doctor to join them
    (4.7 ms at 2,000 doctors against 0.7 ms at 200). With words the matching doctors are
    found first and hashed, and the same walk checks each row's doctor against them: as a
    join, the planner read all the next-free rows (4,000 at 2,000 doctors), hashed them with
    the doctors and sorted the matches, 1 ms more execution at 1,000,000 slots for a word
    that a tenth of the doctors match. The stale rows stay a join (few, found by
    `valid_until`)."""
    doctors = _doctor_condition(district=False, title=title, words=words)
    of_row = " AND n.mode = %(mode)s" if mode else ""
    if district:
        of_row += " AND n.district = %(district)s"
    if words:
        # `OR false` keeps the IN a hashed sub-plan (PostgreSQL turns an IN at the top of a
        # WHERE into a join before it simplifies the OR away): the matching doctors are
        # hashed once and the walk stops after `limit` of their rows.
        exact = f"""appointments_nextfreeperiod n
  WHERE n.start > %(now)s AND (n.valid_until IS NULL OR n.valid_until > %(now)s){of_row}
    AND (n.doctor_id IN (SELECT d.id FROM {_DOCTORS} WHERE {doctors}) OR false)"""  # noqa: S608 (constant fragments; values are parameters)
    else:
        exact = f"""appointments_nextfreeperiod n
  WHERE n.start > %(now)s AND (n.valid_until IS NULL OR n.valid_until > %(now)s){of_row}
    AND {_checked(title=title)}"""
    return f"""
(SELECT n.doctor_id, n.start AS first
   FROM {exact}
  ORDER BY n.start, n.doctor_id LIMIT %(limit)s)
UNION ALL
(SELECT n.doctor_id,
        (SELECT s.start FROM appointments_slot s
          WHERE s.doctor_id = n.doctor_id AND s.mode = n.mode AND {_BOOKABLE}
          ORDER BY s.start LIMIT 1)
   FROM appointments_nextfreeperiod n JOIN {_DOCTORS} ON d.id = n.doctor_id
  WHERE n.valid_until <= %(now)s{of_row} AND {doctors})"""  # noqa: S608 (constant fragments; values are parameters)


def exact_rows(*, query: SearchQuery, limit: int) -> int:
    """How many exact next-free rows, read in order of (start, doctor), hold the soonest
    `limit` doctors in the order search chooses them, (first, doctor id). With a mode a
    doctor has one row (`next_free_doctor_mode`), so `limit` rows are those doctors, the
    ties at the cut included; without, a doctor may hold a row in every public mode, and a
    doctor among the soonest `limit` has at most 2 × (limit − 1) rows of better-placed
    doctors before theirs.

    Read in order of start alone, the ties at the cut went by the index's order, not the
    doctor's: at 1,000,000 slots the 60 soonest online rows of a district all start at the
    same time, and a search showed other doctors than the soonest by id once the refresh had
    rewritten the rows (so 60 rows were read even with a mode: f2a48f2). At 1,000,000 slots
    the 30 rows fewer saved about 0.27 ms a district search."""
    return limit if query.mode else limit * len(PUBLIC_MODES)


def _checked(*, title: bool) -> str:
    """Whether the doctor of the next-free row `n` passes a search without words, asked of that
    doctor alone: a scalar subquery, which PostgreSQL runs for each row it reads and never
    turns into a join that reads every doctor."""
    doctors = _doctor_condition(district=False, title=title, words=0)
    return f"(SELECT {doctors} FROM {_DOCTORS} WHERE d.id = n.doctor_id)"  # noqa: S608 (constant fragments; values are parameters)


@cache
def matching_slots_sql(
    *, district: bool, title: bool, words: int, day: bool, hours: bool, mode: bool
) -> str:
    """A date or part of the day: one page of the matching bookable slots after the keyset
    (after_start, after_id), in (start, id) order: (id, doctor_id, start, matches).

    The page is chosen from the slot table alone walking `slot_start_id_idx` (with words the
    few matching doctors are part of the choice), and each slot's doctor checked on its rows."""
    doctors = _doctor_condition(district=district, title=title, words=words)
    match = _slot_match(day=day, hours=hours, mode=mode)
    if words:
        chosen = f" AND s.doctor_id IN (SELECT d.id FROM {_DOCTORS} WHERE {doctors})"  # noqa: S608 (constant fragments; values are parameters)
        matches = "true"
    else:
        chosen = ""
        matches = f"({doctors})"
    return f"""
SELECT p.id, p.doctor_id, p.start, {matches} AS matches
  FROM (SELECT s.id, s.doctor_id, s.start FROM appointments_slot s
         WHERE {_BOOKABLE}{match}{chosen}
           AND (s.start, s.id) > (%(after_start)s, %(after_id)s)
         ORDER BY s.start, s.id LIMIT %(page)s) p
  JOIN {_DOCTORS} ON d.id = p.doctor_id
 ORDER BY p.start, p.id"""  # noqa: S608 (constant fragments; values are parameters)


def _with_periods(*, match: str, source: str, where: str, leading: str = "") -> str:
    """The doctors of `source` with what a result shows, each in one row with their next
    `per_doctor` matching free periods as arrays in order of (start, mode): ids, starts, ends,
    modes, places left and the site's time zone (null arrays for a doctor whose periods went
    meanwhile). One row a doctor, not one a period: at 30 doctors of 3 periods the doctor's
    columns travelled and were parsed three times, and each extra result cost about 0.2 ms.

    Each doctor's periods are a walk of `slot_doctor_start` in order that stops after
    `per_doctor` bookable ones, and only those look up their site's time zone: the doctor's
    hospital's, already joined, when the period is held there (most are), else by primary key
    (a lookup a period cost 0.2 ms of execution for 30 doctors at 1,000,000 slots). The arrays
    keep the walk's order (start, then mode: unique for a doctor by `slot_doctor_start`), as
    nothing stands between the ordered sub-select and the aggregates: sorting each of the six
    arrays again cost about 10 µs a doctor. The count is a
    sub-select so that the planner plans to stop early: given the number, it estimates a
    doctor's bookable periods in a mode from the whole table (online ones are few there, many
    for the doctors who offer them), finds fewer than the count and, at 1,000,000 slots, read
    and sorted every future period in the mode of each doctor instead (0.11 ms a doctor
    against 0.015)."""
    return f"""
SELECT {leading}d.id, d.name, d.name_en, d.name_pinyin, d.title, d.specialties, d.specialties_en,
       h.kind, h.name, h.name_en, h.district, h.district_en, dep.name, dep.name_en,
       p.ids, p.starts, p.ends, p.modes, p.places_left, p.zones
  FROM {source}
  CROSS JOIN LATERAL (
    SELECT array_agg(q.id) AS ids, array_agg(q.start) AS starts, array_agg(q."end") AS ends,
           array_agg(q.mode) AS modes, array_agg(q.places_left) AS places_left,
           array_agg(q.timezone) AS zones
      FROM (SELECT s.id, s.start, s."end", s.mode,
                   GREATEST(s.capacity - s.booked
                            + CASE WHEN s.referral_merge_at <= %(now)s
                                   THEN s.referral_capacity - s.referral_booked ELSE 0 END, 0)
                     AS places_left,
                   CASE WHEN s.site_id = d.hospital_id THEN h.timezone
                        ELSE (SELECT site.timezone FROM hospitals_hospital site
                               WHERE site.id = s.site_id) END AS timezone
              FROM appointments_slot s
             WHERE s.doctor_id = d.id AND {_BOOKABLE}{match}
             ORDER BY s.start, s.mode LIMIT (SELECT %(per_doctor)s)) q) p
 {where}
 ORDER BY d.id"""  # noqa: S608 (constant fragments; values are parameters)


@cache
def periods_sql(*, day: bool, hours: bool, mode: bool) -> str:
    """The doctors `doctors` with their periods (see `_with_periods`)."""
    match = _slot_match(day=day, hours=hours, mode=mode)
    return _with_periods(match=match, source=_DOCTORS, where="WHERE d.id = ANY(%(doctors)s)")


_PAGE_FOUND = """page AS ({page}),
found AS (SELECT doctor_id, start AS first FROM page WHERE matches)"""


@cache
def search_sql(
    *, district: bool, title: bool, words: int, mode: bool, day: bool, hours: bool
) -> str:
    """The whole search in one statement: the doctors' query (the first page of matching slots
    when a date or part of the day is asked), the soonest `limit_doctors` of them, and their
    periods. Each row begins with how many slots the page held (a date: when it was full and
    found too few doctors, the next pages are `matching_slots_sql`'s) and the doctor's first
    free period."""
    match = _slot_match(day=day, hours=hours, mode=mode)
    shape = {"district": district, "title": title, "words": words, "mode": mode}
    if day or hours:
        page = matching_slots_sql(**shape, day=day, hours=hours)
        found = _PAGE_FOUND.replace("{page}", page)
        page_rows = "(SELECT count(*) FROM page)"
    else:
        found = f"found AS ({next_free_sql(**shape)})"
        page_rows = "0"
    best = """best AS (
  SELECT doctor_id, min(first) AS first FROM found WHERE first IS NOT NULL
   GROUP BY doctor_id ORDER BY 2, 1 LIMIT %(limit_doctors)s)"""
    periods = _with_periods(
        match=match,
        source=f"best JOIN {_DOCTORS} ON d.id = best.doctor_id",
        # The found doctors by primary key (as a join the planner read them all).
        where="WHERE d.id = ANY(ARRAY(SELECT doctor_id FROM best))",
        leading=f"{page_rows}, best.first, ",
    )
    return f"WITH {found},\n{best}{periods}"


def base_parameters(*, query: SearchQuery, now: dt.datetime) -> dict:
    """The parameters the texts above may name, for this query."""
    parameters = {
        "now": now,
        "public_modes": list(PUBLIC_MODES),
        "mode": query.mode,
        "district": query.district,
        "title": query.title,
        "zone": settings.TIME_ZONE,
    }
    for index, word in enumerate(search_words(query.text)):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parameters[f"word{index}"] = f"{escaped}%"  # the prefix of a suffix row
    low_hour, high_hour = DAY_PARTS.get(query.day_part, (0, 24))
    parameters["low_hour"], parameters["high_hour"] = low_hour, high_hour
    if query.day is not None:
        # The part of the day is a range of starts on that day: the start index serves it.
        midnight = dt.datetime.combine(query.day, dt.time.min, tzinfo=portal_zone())
        parameters["low"] = midnight + dt.timedelta(hours=low_hour)
        parameters["high"] = midnight + dt.timedelta(hours=high_hour)
    return parameters


def _shape(query: SearchQuery) -> dict:
    """The parts of the query that change the text (not only the parameters)."""
    return {
        "district": bool(query.district),
        "title": bool(query.title),
        "words": len(search_words(query.text)),
        "mode": bool(query.mode),
    }


def _run(sql: str, parameters: dict) -> list[tuple]:
    # In binary: Django's loader of timestamptz text is Python, and reading a page of 90 rows
    # cost 1.0 ms in text against 0.1 ms in binary (the same values, in UTC either way: Django
    # keeps the session's time zone UTC).
    return fixed_sql.run(sql, parameters, binary=True)


def doctors_statement(
    *, query: SearchQuery, now: dt.datetime, limit: int
) -> tuple[str, dict, bool]:
    """The doctors' query as (text, parameters, paged): paged texts (a date or part of the
    day) return (id, doctor_id, start, matches) a slot from the keyset in the parameters on;
    the others (doctor_id, first)."""
    parameters = base_parameters(query=query, now=now)
    shape = _shape(query)
    if query.day is None and query.day_part not in DAY_PARTS:
        parameters["limit"] = exact_rows(query=query, limit=limit)
        return next_free_sql(**shape), parameters, False
    sql = matching_slots_sql(**shape, day=query.day is not None, hours=query.day is None)
    parameters["after_start"] = parameters["low"] if query.day is not None else now
    parameters["after_id"], parameters["page"] = 0, PAGE_ROWS
    return sql, parameters, True


def doctors_found(*, query: SearchQuery, now: dt.datetime, limit: int) -> dict:
    """The doctors' query of `search_doctors`: {doctor_id: first free period} of the soonest
    `limit` doctors (a date: pages of matching slots until `limit` doctors, rarely two)."""
    sql, parameters, paged = doctors_statement(query=query, now=now, limit=limit)
    found: dict[int, dt.datetime] = {}
    if not paged:
        first_of_each_doctor(_run(sql, parameters), found)
        return soonest(found, limit)
    while len(found) < limit:
        rows = _run(sql, parameters)
        first_of_each_doctor((row for row in rows if row[3]), found)
        if len(rows) < PAGE_ROWS:
            break
        parameters["after_start"], parameters["after_id"] = rows[-1][2], rows[-1][0]
    return soonest(found, limit)


def periods_statement(*, query: SearchQuery, now: dt.datetime, doctor_ids: list[int]):
    """The periods' query as (text, parameters)."""
    parameters = base_parameters(query=query, now=now)
    parameters["doctors"], parameters["per_doctor"] = list(doctor_ids), PERIODS_PER_DOCTOR
    sql = periods_sql(
        day=query.day is not None,
        hours=query.day is None and query.day_part in DAY_PARTS,
        mode=bool(query.mode),
    )
    return sql, parameters


def results(
    *, query: SearchQuery, now: dt.datetime, found: dict[int, dt.datetime]
) -> list[SearchResult]:
    """The found doctors with their periods (one row a doctor), soonest first, then by the
    pinyin of the name."""
    sql, parameters = periods_statement(query=query, now=now, doctor_ids=list(found))
    return _results_of(_run(sql, parameters), found)


def search_statement(*, query: SearchQuery, now: dt.datetime, limit: int) -> tuple[str, dict]:
    """The one statement of a search as (text, parameters)."""
    parameters = base_parameters(query=query, now=now)
    day, hours = query.day is not None, query.day is None and query.day_part in DAY_PARTS
    parameters["limit"] = exact_rows(query=query, limit=limit)
    parameters["after_start"] = parameters["low"] if day else now
    parameters["after_id"], parameters["page"] = 0, PAGE_ROWS
    parameters["limit_doctors"], parameters["per_doctor"] = limit, PERIODS_PER_DOCTOR
    return search_sql(**_shape(query), day=day, hours=hours), parameters


def search(*, query: SearchQuery, now: dt.datetime, limit: int) -> list[SearchResult]:
    """`search_doctors` in one statement (`search_sql`); with a date, when the first page of
    matching slots was full and held fewer than `limit` doctors, the pages one by one
    (`doctors_found`) and then the periods (`results`)."""
    rows = _run(*search_statement(query=query, now=now, limit=limit))
    found = {row[2]: row[1] for row in rows}
    if (
        (query.day is not None or query.day_part in DAY_PARTS)
        and (not rows or rows[0][0] == PAGE_ROWS)
        and len(found) < limit
    ):
        found = doctors_found(query=query, now=now, limit=limit)
        return results(query=query, now=now, found=found) if found else []
    return _results_of([row[2:] for row in rows], found)


def _results_of(rows: list[tuple], found: dict[int, dt.datetime]) -> list[SearchResult]:
    """The results of `_with_periods`'s rows (one a doctor), soonest first, then by the pinyin
    of the name.

    Built positionally, and a hospital or department that several results show is one
    `ResultPlace` (frozen, so shared safely): at 30 results this took 8 µs a result instead
    of 13 (a frozen dataclass sets each field through `object.__setattr__`)."""
    keyed = []
    places: dict[tuple, ResultPlace] = {}
    for row in rows:
        doctor_id = row[0]
        first = found[doctor_id]
        hospital = places.get(row[7:12])  # kind, name, name_en, district, district_en
        if hospital is None:
            hospital = places[row[7:12]] = ResultPlace(row[8], row[9], row[7], row[10], row[11])
        department = places.get(row[12:14])  # name, name_en
        if department is None:
            department = places[row[12:14]] = ResultPlace(row[12], row[13])
        # pk, name, name_en, title, specialties, specialties_en
        doctor = ResultDoctor(
            doctor_id, row[1], row[2], row[4], row[5], row[6], hospital, department
        )
        result = SearchResult(doctor, first)
        if row[14] is not None:  # ids, starts, ends, modes, places left, time zones
            result.periods = list(map(ResultPeriod, *row[14:20]))
        keyed.append((first, row[3], doctor_id, result))
    keyed.sort(key=_ORDER)
    return [entry[3] for entry in keyed]


# Soonest first, then the pinyin of the name, then the doctor's id (unique: never the result).
_ORDER = itemgetter(0, 1, 2)
