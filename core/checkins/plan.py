"""The check-in plan: which check-ins a treatment gets, on which day, saying what.

A list of steps per procedure (``CheckinStep``: key, day, body, active), editable by an
admin, seeded from ``DEFAULT_PLAN``; an edited body must fit ``MAX_SEGMENTS`` SMS once its
placeholders are filled in. Staff can pause a patient's check-ins. Framework-free.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import content, sms
from core.audit import record as audit
from core.clinic import get_clinic
from core.models import CheckinStep, Patient

PROCEDURE = "microneedling"
MAX_LATE_DAYS = 2  # a step may go out up to 2 days after its day (downtime, quiet hours); later it is stale
MAX_SEGMENTS = 2
PLACEHOLDERS = ("{first_name}", "{clinic}")
SAMPLE_FIRST_NAME = "Alexandra-Josephine"  # a long first name, for length checks of an edited body

# The default microneedling plan: which step goes out on which recovery day. The bodies are in
# content/en/checkins.yml (in our own words, from the clinic guide's facts; plain GSM-7 text within
# 2 SMS segments; placeholders {first_name} and {clinic}). A new install starts with them; staff
# edit a step's body in the inbox afterwards.
_PLAN_DAYS = (("day1", 1), ("day3", 3), ("day7", 7), ("week4", 28))
SPANISH = "es"
DEFAULT_PLAN: list[dict] = [
    {
        "key": key,
        "day": day,
        "body": content.default().template("checkins", key),
        # content/es/checkins.yml (English when there is no Spanish file)
        "body_es": content.default().template("checkins", key, language=SPANISH)
        if SPANISH in content.default().languages("checkins")
        else None,
    }
    for key, day in _PLAN_DAYS
]


# ---------------------------------------------------------------------- SMS length
def is_gsm7(text: str) -> bool:
    return sms.is_gsm(text)


def sms_length(text: str) -> int:
    """Length in GSM-7 septets (extended characters count twice), or UTF-16 units when not GSM-7."""
    if sms.is_gsm(text):
        return sum(2 if ch in sms.GSM_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes (160/153 per segment in GSM-7, 70/67 in UCS-2)."""
    return sms.segment_count(text)


# ---------------------------------------------------------------------- rendering
def render_body(body: str, *, first_name: str | None, clinic_name: str | None, language: str = "en") -> str:
    """Fill the known placeholders (only those: a stray brace in an edited body is left as it is)."""
    name = (first_name or "").strip() or content.default().text("checkins", "no_first_name", language=language)
    clinic = (clinic_name or "").strip() or content.default().text("checkins", "no_clinic_name", language=language)
    return sms.gsm_friendly(body.replace("{first_name}", name).replace("{clinic}", clinic).strip())


class PlanError(ValueError):
    pass


def validate_body(body: str, *, clinic_name: str) -> str:
    """An edited step body: not empty, no unknown placeholder, at most 2 SMS segments once filled in.

    Typographic punctuation pasted from a word processor (curly quotes, dashes) becomes its plain
    SMS equivalent, so one curly quote does not cut every segment to 67 characters.
    """
    body = sms.gsm_friendly((body or "").replace("\r\n", "\n"), letters=False).strip()  # accents fold when sent
    if not body:
        raise PlanError("the message must not be empty")
    leftover = body
    for p in PLACEHOLDERS:
        leftover = leftover.replace(p, "")
    if "{" in leftover or "}" in leftover:
        raise PlanError("only {first_name} and {clinic} can be used as placeholders")
    rendered = render_body(body, first_name=SAMPLE_FIRST_NAME, clinic_name=clinic_name)
    if sms_segments(rendered) > MAX_SEGMENTS:
        if not is_gsm7(rendered):
            raise PlanError(
                "the message is too long: it uses characters outside the basic SMS alphabet (emoji, accents?), "
                "which makes each SMS hold only 67 characters; remove them or shorten it"
            )
        raise PlanError(
            f"the message is too long: {sms_length(rendered)} characters once names are filled in "
            f"(at most {MAX_SEGMENTS * 153} for {MAX_SEGMENTS} SMS)"
        )
    return body


# ---------------------------------------------------------------------- the plan
def plan_steps(session: Session, procedure: str = PROCEDURE, *, active_only: bool = False) -> list[CheckinStep]:
    q = select(CheckinStep).where(CheckinStep.procedure == procedure)
    if active_only:
        q = q.where(CheckinStep.active.is_(True))
    return sorted(session.execute(q).scalars(), key=lambda s: (s.day, s.key))


def ensure_default_plan(session: Session, procedure: str = PROCEDURE) -> list[CheckinStep]:
    """Add the default steps whose key is missing (never changes an edited step). Returns the added ones."""
    have = {s.key for s in plan_steps(session, procedure)}
    added = []
    for step in DEFAULT_PLAN:
        if step["key"] not in have:
            row = CheckinStep(
                procedure=procedure,
                key=step["key"],
                day=step["day"],
                body=step["body"],
                body_es=step["body_es"],
                active=True,
            )
            session.add(row)
            added.append(row)
    session.flush()
    return added


def add_default_spanish(session: Session, procedure: str = PROCEDURE) -> list[CheckinStep]:
    """Give a step from before Spanish texts existed the default Spanish text, only while its English
    text is still the default one: an admin's own English wording is never paired with a
    translation of something else. Returns the steps changed (run at every start)."""
    defaults = {d["key"]: d for d in DEFAULT_PLAN}
    changed = []
    for row in plan_steps(session, procedure):
        d = defaults.get(row.key)
        if d is not None and row.body_es is None and d["body_es"] and row.body == d["body"]:
            row.body_es = d["body_es"]
            changed.append(row)
    session.flush()
    return changed


def body_for(step: CheckinStep, language: str | None) -> str:
    """The step's text in the patient's language (Spanish when there is one), else English."""
    return step.body_es if language == SPANISH and step.body_es else step.body


def update_step(
    session: Session,
    *,
    step_id: str,
    body: str,
    day: int,
    active: bool,
    actor_id: str | None,
    actor_label: str,
    body_es: str | None = None,
) -> CheckinStep:
    step = session.get(CheckinStep, step_id)
    if step is None:
        raise PlanError("unknown check-in step")
    if not isinstance(day, int) or day < 0 or day > 365:
        raise PlanError("the day must be a whole number from 0 to 365")
    body = validate_body(body, clinic_name=get_clinic(session).name)
    # None: the form did not show the Spanish text (keep it); empty: Spanish patients get the English text
    spanish = (
        step.body_es
        if body_es is None
        else (validate_body(body_es, clinic_name=get_clinic(session).name) if body_es.strip() else None)
    )
    changed = [
        name
        for name, old, new in (
            ("body", step.body, body),
            ("body_es", step.body_es, spanish),
            ("day", step.day, day),
            ("active", bool(step.active), bool(active)),
        )
        if old != new
    ]
    step.body, step.body_es, step.day, step.active = body, spanish, day, bool(active)
    session.flush()
    audit(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="checkin_step.update",
        object_type="checkin_step",
        object_id=step.id,
        detail=f"{step.key}: {', '.join(changed) or 'no change'}; day={day} active={bool(active)}",
    )
    return step


def set_paused(session: Session, *, patient_id: str, paused: bool, actor_id: str | None, actor_label: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise PlanError("unknown patient")
    if bool(patient.checkins_paused) != bool(paused):
        patient.checkins_paused = bool(paused)
        audit(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="checkins.pause" if paused else "checkins.resume",
            object_type="patient",
            object_id=patient.id,
        )
    session.flush()
    return patient
