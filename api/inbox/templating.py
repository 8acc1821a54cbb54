"""Server-rendered staff pages (Jinja2, autoescaped).

``render(request, "page.html", {...})`` fills in what every page needs: the signed-in
staff member, the session's CSRF token (``{{ csrf_field() }}`` in every POST form),
the clinic's name and time zone, and a notice from ``?done=`` / ``?error=`` codes.

Other modules can add their own templates that ``{% extends "inbox_base.html" %}``:
put them in ``api/templates/`` (searched after ours) or call ``add_template_dir``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

HERE = Path(__file__).resolve().parent
TEMPLATE_DIRS: list[Path] = [HERE / "templates", HERE.parent / "templates"]

NOTICES = {
    "signed_out": "You are signed out.",
    "acknowledged": "Escalation acknowledged.",
    "assigned": "Assignment saved.",
    "noted": "Private note added.",
    "replied": "Reply sent to the patient.",
    "reply_queued": "Reply queued: it goes out by SMS within seconds.",
    "taken_over": "You have taken over: the assistant stays quiet in this conversation (except the call-911 reply in an emergency).",
    "handed_back": "Handed back: the assistant answers this conversation again.",
    "resolved": "Escalation resolved.",
    "patient_created": "Patient added.",
    "treatment_added": "Treatment added.",
    "link_sent": "The chat link is on its way to the patient by text.",
    "language_saved": "Language saved: new texts and chats start in it.",
    "staff_created": "Staff account created.",
    "staff_updated": "Staff account updated.",
    "settings_saved": "Clinic settings saved.",
    "canned_added": "Canned reply added.",
    "canned_saved": "Canned reply saved.",
    "canned_deleted": "Canned reply deleted.",
    "password_changed": "Password changed. Your other sessions were signed out.",
    "totp_enabled": "Two-factor sign-in is on. Your other sessions were signed out.",
    "totp_disabled": "Two-factor sign-in is off.",
}
ERRORS = {
    "already_resolved": "This escalation is already resolved.",
    "link_not_sent": "The chat link was NOT sent: no phone number on file, or the patient opted out of SMS.",
    "note_required": "Write a resolution note: what was done and what the patient was told.",
    "empty_note": "The note is empty.",
    "empty_reply": "The reply is empty.",
    "reply_too_long": "The reply is too long.",
    "not_sent": "The reply was saved but NOT sent: the patient has opted out of SMS or there is no number. Call the patient instead.",
    "unknown_staff": "That staff member does not exist or is inactive.",
    "bad_language": "Choose English or Spanish (or detection).",
}

_env: Environment | None = None
_extra_dirs: list[Path] = []


def add_template_dir(path: str | Path) -> None:
    """Let another module's templates use ours (and extend inbox_base.html)."""
    global _env
    p = Path(path)
    if p not in _extra_dirs:
        _extra_dirs.append(p)
        _env = None


def _tz(request: Request) -> ZoneInfo:
    name = getattr(request.state, "clinic_tz", None) or "America/New_York"
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


def as_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def age_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min" if hours < 6 else f"{hours} h"
    return f"{hours // 24} days"


def environment() -> Environment:
    global _env
    if _env is None:
        loaders = [FileSystemLoader(str(d)) for d in [*TEMPLATE_DIRS, *_extra_dirs]]
        env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True))
        env.filters["age"] = age_text
        _env = env
    return _env


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    ctx: dict[str, Any] = dict(context or {})
    tz = _tz(request)
    csrf = getattr(request.state, "csrf_token", "") or ctx.get("csrf_token", "")

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf)

    def localtime(dt: datetime | date | None, fmt: str = "%b %d, %Y %I:%M %p") -> str:
        if dt is None:
            return ""
        if isinstance(dt, datetime):
            return as_utc(dt).astimezone(tz).strftime(fmt).replace(" 0", " ")
        return dt.strftime("%b %d, %Y")

    def isotime(dt: datetime | None) -> str:
        return as_utc(dt).isoformat() if dt else ""

    done = request.query_params.get("done", "")
    error = request.query_params.get("error", "")
    ctx.setdefault("notice", NOTICES.get(done))
    ctx.setdefault("error", ERRORS.get(error))
    ctx.setdefault("staff", getattr(request.state, "staff_view", None))
    ctx.setdefault("clinic_name", getattr(request.state, "clinic_name", "") or "Aftercare")
    ctx.setdefault("oncall_missing", bool(getattr(request.state, "oncall_missing", False)))
    ctx.update(request=request, csrf_token=csrf, csrf_field=csrf_field, localtime=localtime, isotime=isotime, tz_name=str(tz.key))
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)


def text_block(value: str) -> Markup:
    """Escaped text with line breaks kept."""
    return Markup("<br>").join(escape(line) for line in (value or "").split("\n"))
