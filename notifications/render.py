"""The one renderer of every message: e-mail, SMS and inbox text from an outbox row's kind,
language and snapshot (`params`), at delivery (the worker) or at read time (the inbox).

A kind's texts are templates `messages/<kind>/<part>.txt`, or `messages/<family>/<part>.txt`
for a kind `<family>.<variant>` (`reminder.2h` → `messages/reminder/`); the parts are `title`,
`body` (e-mail), `inbox` and `sms`. A missing `inbox`/`sms` part falls back to the title. A kind
may add `sms_short`: the text message used instead of `sms` when that would not fit one SMS
(long names, a long SITE_URL), so the message is one SMS instead of two parts. Rows
whose texts were finished by their writer (`params["text"]`, e.g. an invitation) use
`messages/text/`. The templates are compiled once per process (Django's cached loader) and the
context is prepared here, the same for every kind:

- a value `{"zh-hans": …, "en": …}` becomes the reader's language's text;
- `*_at` values are ISO instants, shown in `params["tz"]` as `12月2日 周三 14:00` /
  `Wed 2 Dec, 14:00` (with the year when not this year) under `<name>_when`;
  `start_at` also gets `start_relative` (`今天 10:00，还有 2 小时 15 分` / `today 10:00,
  in 2 h 15 min`), measured from the moment of rendering, and `start_short` (`今天 10:00`,
  `明天 09:30`, else the date) for short texts;
- `path` (and every `*_path`) gets an absolute `url` (`*_url`) on the site's domain.

Attachments are built by a function another app gave (`FILE_BUILDERS`, registered in its
`AppConfig.ready()`), from the snapshot too, at most once per batch for the same input.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications import dates

PARTS = ("title", "body", "inbox", "sms")
# One SMS to a mainland number is 70 characters, signature included, whatever the script: the
# providers (Aliyun, Tencent Cloud) count a Latin letter, digit, space or mark as one character,
# like a Chinese one, and bill a longer text as parts of 67. So English texts keep to 70 too
# (GSM-7's 160 holds only abroad). The parts of a split text carry a "(1/2) " prefix within it.
SMS_LIMIT = 70

# name → builder(spec: dict, language: str) -> str (the file's text). Registered by the app
# that owns the file format (appointments: "appointment_ics"); see docs/architecture.md.
FILE_BUILDERS: dict[str, Callable[[dict, str], str]] = {}


def register_file_builder(name: str, builder: Callable[[dict, str], str]) -> None:
    FILE_BUILDERS[name] = builder


@dataclass
class Rendered:
    title: str
    body: str
    inbox: str
    sms: list[str]
    link: str
    files: list[dict[str, str]] = field(default_factory=list)


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}" if path.startswith("/") else path


def _english(language: str) -> bool:
    return language.startswith("en")


def format_when(moment: dt.datetime, *, language: str, now: dt.datetime) -> str:
    """`12月2日 周三 14:00` / `Wed 2 Dec, 14:00` (notifications/dates.py, as the pages write it)."""
    return dates.format_when(moment, language=language, today=now.astimezone(moment.tzinfo).date())


def format_relative(
    moment: dt.datetime, *, language: str, now: dt.datetime, left: bool = True
) -> str:
    """The real time of a coming moment: today with what is left (not with `left=False`, the
    short form of a text message), tomorrow, or the date."""
    local_now = now.astimezone(moment.tzinfo)
    days = (moment.date() - local_now.date()).days
    english = _english(language)
    if days == 0 and not left:
        return f"today {moment:%H:%M}" if english else f"今天 {moment:%H:%M}"
    if days == 0 and moment > now:
        minutes = int((moment - now).total_seconds() // 60)
        hours, minutes = divmod(minutes, 60)
        if english:
            left = (f"{hours} h " if hours else "") + f"{minutes} min"
            return f"today {moment:%H:%M}, in {left}"
        left = (f"{hours} 小时 " if hours else "") + f"{minutes} 分"
        return f"今天 {moment:%H:%M}，还有 {left}"
    if days == 1:
        return f"tomorrow {moment:%H:%M}" if english else f"明天 {moment:%H:%M}"
    return format_when(moment, language=language, now=now)


def _pick(value: Any, language: str) -> Any:
    """A `{"zh-hans": …, "en": …}` pair becomes one language's text, recursively."""
    if isinstance(value, dict):
        if value and set(value) <= {"zh-hans", "en"}:
            return value.get("en" if _english(language) else "zh-hans") or next(
                (text for text in value.values() if text), ""
            )
        return {key: _pick(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [_pick(item, language) for item in value]
    return value


def _dress(values: dict, *, zone: dt.tzinfo, language: str, now: dt.datetime) -> None:
    for key, value in list(values.items()):
        if key.endswith("_at") and isinstance(value, str) and value:
            moment = dt.datetime.fromisoformat(value).astimezone(zone)
            values[key] = moment
            values[f"{key[:-3]}_when"] = format_when(moment, language=language, now=now)
            if key == "start_at":
                values["start_relative"] = format_relative(moment, language=language, now=now)
                values["start_short"] = format_relative(
                    moment, language=language, now=now, left=False
                )
        elif (key == "path" or key.endswith("_path")) and isinstance(value, str) and value:
            values["url" if key == "path" else f"{key[:-5]}_url"] = site_url(value)
        elif isinstance(value, dict):
            _dress(value, zone=zone, language=language, now=now)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _dress(item, zone=zone, language=language, now=now)


def message_context(params: dict, *, language: str, now: dt.datetime) -> dict:
    zone = zoneinfo.ZoneInfo(params.get("tz") or settings.TIME_ZONE)
    context = _pick(params, language)
    _dress(context, zone=zone, language=language, now=now)
    return context


def _context(params: dict, *, language: str, now: dt.datetime, cache: dict | None) -> dict:
    """`message_context`, worked out once per batch for the rows (e-mail, SMS, inbox) of one
    message: same snapshot, language and moment (the dict comparison is what makes it safe).
    The file specs only the e-mail row carries are no template's business: left out."""
    if "files" in params:
        params = {key: value for key, value in params.items() if key != "files"}
    if cache is None:
        return message_context(params, language=language, now=now)
    key = ("context", params.get("code"), language, now)
    cached = cache.get(key)
    if cached is not None and cached[0] == params:
        return dict(cached[1])
    context = message_context(params, language=language, now=now)
    cache[key] = (params, context)
    return dict(context)


def _templates(
    kind: str, params: dict, parts: tuple[str, ...] = PARTS, cache: dict | None = None
) -> dict[str, Any]:
    """The compiled templates of a kind's `parts` (the title always; the body when the inbox
    has no template of its own). `cache`, a dict kept for one batch, looks each up once."""
    folders = ("text",) if "text" in params else (kind, kind.split(".")[0])
    key = (folders, parts)
    if cache is not None and key in cache:
        return cache[key]
    found: dict[str, Any] = {}
    wanted = ["title", *(part for part in PARTS if part in parts and part != "title")]
    for part in wanted:
        for folder in folders:
            try:
                found[part] = get_template(f"messages/{folder}/{part}.txt")
                break
            except TemplateDoesNotExist:
                continue
        if part == "inbox" and "inbox" not in found and "body" not in wanted:
            wanted.append("body")
    if "title" not in found:
        raise TemplateDoesNotExist(f"messages/{kind}/title.txt")
    if cache is not None:
        cache[key] = found
    return found


def sms_limit(text: str = "") -> int:
    """The characters one SMS leaves for the text: 70 less the provider's signature, which it
    adds as 【name】 and counts (SMS_SIGNATURE, e.g. 云医院: 65 left)."""
    signature = getattr(settings, "SMS_SIGNATURE", "")
    return SMS_LIMIT - (len(signature) + 2 if signature else 0)


_LINK = re.compile(r"https?://\S+")


def _cut(rest: str, room: int) -> int:
    """Where a part ends: after the last space or punctuation mark within `room` (the mark stays
    with the part it ends), never inside a link (its dots end no sentence); before a link that
    would be cut, else a hard cut at `room`."""
    links = [match.span() for match in _LINK.finditer(rest)]
    for position in range(room - 2, room // 2 - 1, -1):
        if rest[position] in " ，。：；,.;" and not any(a <= position < b for a, b in links):
            return position + 1
    return next((a for a, b in links if 0 < a < room < b), room)


def sms_split(text: str) -> list[str]:
    """One text message when it fits; otherwise parts of at most one SMS each, numbered
    `(1/2) `, cut at a space or punctuation where one is near (a link is never cut)."""
    text = " ".join(text.split())
    limit = sms_limit(text)
    if len(text) <= limit:
        return [text]
    room = limit - len("(9/9) ")
    pieces: list[str] = []
    rest = text
    while rest:
        if len(rest) <= room:
            pieces.append(rest)
            break
        cut = _cut(rest, room)
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [f"({index}/{len(pieces)}) {piece}" for index, piece in enumerate(pieces, 1)]


def _fits_one_sms(text: str) -> bool:
    text = " ".join(text.split())
    return len(text) <= sms_limit(text)


def _short_sms(kind: str, params: dict, cache: dict | None) -> Any:
    """The kind's `sms_short` template, or None; looked up once per batch with `cache`."""
    key = ("sms_short", kind)
    if cache is not None and key in cache:
        return cache[key]
    found = None
    if "text" not in params:
        for folder in (kind, kind.split(".")[0]):
            try:
                found = get_template(f"messages/{folder}/sms_short.txt")
                break
            except TemplateDoesNotExist:
                continue
    if cache is not None:
        cache[key] = found
    return found


def _file(spec: dict, language: str, cache: dict | None) -> dict[str, str]:
    key = json.dumps([spec, language], sort_keys=True, default=str)
    if cache is not None and key in cache:
        return cache[key]
    content = FILE_BUILDERS[spec["builder"]](spec, language)
    built = {"name": spec["name"], "content": content, "method": spec.get("method", "REQUEST")}
    if cache is not None:
        cache[key] = built
    return built


def message_render(
    *,
    kind: str,
    params: dict,
    language: str,
    now: dt.datetime | None = None,
    files: bool = False,
    file_cache: dict | None = None,
    parts: tuple[str, ...] = PARTS,
    template_cache: dict | None = None,
) -> Rendered:
    """The `parts` of one message (all by default) in `language`, as of `now`. With `files`,
    the attachments too (`file_cache`, a dict kept for one batch, builds the same file once;
    `template_cache` looks each template up once per batch)."""
    now = now or timezone.now()
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        if "text" in params:
            context = dict(_pick(params["text"], language))
        else:
            context = _context(params, language=language, now=now, cache=template_cache)
        context.setdefault("site", _("Cloud Hospital"))
        templates = _templates(kind, params, parts, template_cache)
        text = {part: template.render(context).strip() for part, template in templates.items()}
        title = " ".join(text["title"].split())[:300]
        sms = text.get("sms") or " ".join(part for part in (title, context.get("url", "")) if part)
        if "sms" in parts and not _fits_one_sms(sms):
            short = _short_sms(kind, params, template_cache)
            if short is not None:
                sms = short.render(context).strip()
        built = (
            [_file(spec, language, file_cache) for spec in params.get("files", [])] if files else []
        )
    return Rendered(
        title=title,
        body=text.get("body", ""),
        inbox=text.get("inbox") or text.get("body", ""),
        sms=sms_split(sms),
        link=str(context.get("link") or context.get("path") or ""),
        files=built,
    )
