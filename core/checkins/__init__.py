"""Proactive recovery check-ins: a short SMS plan after each treatment.

* ``plan``: which check-ins a treatment gets and when (the editable steps, the default
  plan, SMS length checks of an edited body, pausing a patient);
* ``scheduler``: which steps are due now and sending them, once each, or skipping them
  with a reason (``run_due``; the API process runs it from a worker loop);
* ``views``: what the staff inbox shows (recent sends, one patient's plan and history).

Framework-free. Callers import from ``core.checkins``; the names below are its API.
"""

from __future__ import annotations

from .plan import (
    DEFAULT_PLAN,
    MAX_LATE_DAYS,
    MAX_SEGMENTS,
    PLACEHOLDERS,
    PROCEDURE,
    SAMPLE_FIRST_NAME,
    PlanError,
    add_default_spanish,
    body_for,
    ensure_default_plan,
    is_gsm7,
    plan_steps,
    render_body,
    set_paused,
    sms_length,
    sms_segments,
    update_step,
    validate_body,
)
from .scheduler import (
    BLOCKING_LEVELS,
    DEFAULT_TZ,
    MESSAGE_TOPIC,
    OUTBOX_PURPOSE,
    SKIP_ESCALATION,
    SKIP_NO_PHONE,
    SKIP_OPTED_OUT,
    SKIP_PAUSED,
    SKIP_STALE,
    SKIP_SUPERSEDED,
    SKIP_TAKEOVER,
    SMS_CHANNEL,
    CheckinOutcome,
    clinic_zone,
    in_window,
    run_due,
    sms_conversation,
)
from .views import (
    FAILED_DELIVERY,
    SKIP_REASONS,
    PatientCheckins,
    SendView,
    StepView,
    patient_checkins,
    recent_sends,
)

__all__ = [
    "BLOCKING_LEVELS",
    "DEFAULT_PLAN",
    "DEFAULT_TZ",
    "FAILED_DELIVERY",
    "MAX_LATE_DAYS",
    "MAX_SEGMENTS",
    "MESSAGE_TOPIC",
    "OUTBOX_PURPOSE",
    "PLACEHOLDERS",
    "PROCEDURE",
    "SAMPLE_FIRST_NAME",
    "SKIP_ESCALATION",
    "SKIP_NO_PHONE",
    "SKIP_OPTED_OUT",
    "SKIP_PAUSED",
    "SKIP_REASONS",
    "SKIP_STALE",
    "SKIP_SUPERSEDED",
    "SKIP_TAKEOVER",
    "SMS_CHANNEL",
    "CheckinOutcome",
    "PatientCheckins",
    "PlanError",
    "SendView",
    "StepView",
    "clinic_zone",
    "add_default_spanish",
    "body_for",
    "ensure_default_plan",
    "in_window",
    "is_gsm7",
    "patient_checkins",
    "plan_steps",
    "recent_sends",
    "render_body",
    "run_due",
    "set_paused",
    "sms_conversation",
    "sms_length",
    "sms_segments",
    "update_step",
    "validate_body",
]
