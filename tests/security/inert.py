"""Is hostile text inert where it is shown? HTML is parsed as a browser would tokenise it:
no event-handler attribute, no script that is not a file of ours (or json_script data), no
javascript:/vbscript:/data:text/html URL, no element that embeds or redirects, and the raw
payload (with its quotes and angle brackets) nowhere in the markup."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "srcdoc"}
EMBEDDING = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "isindex"}
BAD_URL = re.compile(r"^(javascript|vbscript|data:text/html)", re.IGNORECASE)


def payloads() -> list[str]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line and not line.startswith("#")]


def storable(text: str, limit: int) -> str:
    """What a field can hold: PostgreSQL text takes no NUL (the forms refuse it anyway)."""
    return text.replace("\x00", "")[:limit]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in URL_ATTRIBUTES and value:
                cleaned = re.sub(r"[\x00-\x20]", "", value)
                if BAD_URL.match(cleaned):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "style" and value and ("expression" in value or "url(" in value):
                self.problems.append(f"<{tag} style={value[:40]!r}>")
        if tag in EMBEDDING:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and any(n == "http-equiv" for n, _ in attrs):
            self.problems.append("<meta http-equiv>")
        if tag == "script":
            attributes = dict(attrs)
            if attributes.get("type") == "application/json":
                self.in_script = "json"
            elif (attributes.get("src") or "").startswith("/static/"):
                self.in_script = "file"
            else:
                self.problems.append(f"<script {attributes}>")
                self.in_script = "inline"

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = None

    def handle_data(self, data):
        if self.in_script == "json" and data.strip():
            try:
                json.loads(data)
            except ValueError:
                self.problems.append("json_script data that is not JSON")
        elif self.in_script == "file" and data.strip():
            self.problems.append("a script file tag with inline code")


def html_problems(html: str, stored: list[str] = ()) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    problems = scanner.problems
    for text in stored:
        if any(ch in text for ch in "<>\"'") and text in html:
            problems.append(f"unescaped: {text[:50]!r}")
    return problems


def csv_problems(text: str) -> list[str]:
    """A cell a spreadsheet would run as a formula."""
    problems = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))):
        for cell in row:
            if cell[:1] in {"=", "+", "-", "@", "\t", "\r"}:
                problems.append(f"formula cell {cell[:40]!r}")
    return problems


def ics_problems(text: str, events: int) -> list[str]:
    """Injected lines: a calendar of `events` events must still have exactly that many, and
    no line may come from a payload (every line is a property, folded or not)."""
    from icalendar import Calendar

    problems = []
    calendar = Calendar.from_ical(text)
    found = len(calendar.walk("VEVENT"))
    if found != events:
        problems.append(f"{found} events, expected {events}")
    for line in text.replace("\r\n ", "").split("\r\n"):
        if line.startswith(("ATTENDEE:mailto:evil", "SUMMARY:injected")):
            problems.append(f"injected line {line[:40]!r}")
    return problems
