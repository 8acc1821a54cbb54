"""Proactive check-ins: the scheduler's worker loop and the staff pages.

* ``checkin_worker`` (run by api.app.create_app): every ``container.checkin_interval_s`` (60 s)
  it runs ``core.checkins.run_due`` with the container's clock, in its own transaction.
* ``/inbox/checkins``: the plan (admins edit body, day, active) and recent sends.
* ``/inbox/checkins/patients/{id}``: one patient's plan, what was sent and its
  delivery status, and pause/resume (audited).

The pages are staff inbox pages (api.inbox's sign-in, roles and templates).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api.container import Container
from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff, require_role, verify_csrf
from api.inbox.templating import render
from core import checkins as service
from core.audit import record as audit
from core.clinic import get_clinic
from core.db import session_scope
from core.models import CheckinStep, StaffUser

log = logging.getLogger("aftercare.checkins")

router = APIRouter(tags=["check-ins"])


# ---------------------------------------------------------------------- the worker
def run_once(container: Container) -> list[service.CheckinOutcome]:
    """One scheduler pass in its own transaction (the worker, tests and demos call this)."""
    with session_scope(container.session_factory) as s:
        return service.run_due(s, now=container.clock.now())


async def checkin_worker(container: Container) -> None:
    """Send due check-ins about once a minute; never dies (a failed pass is retried on the next tick)."""
    interval = container.checkin_interval_s
    while True:
        try:
            outcomes = await asyncio.to_thread(run_once, container)
            queued = sum(1 for o in outcomes if o.status == "queued")
            if outcomes:
                log.info("check-ins: %d queued, %d skipped", queued, len(outcomes) - queued)
        except Exception:  # a locked database, a lost connection: try again next tick
            log.exception("check-in pass failed; will retry")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------- staff pages
Admin = require_role("admin")


def _actor(staff: StaffUser) -> tuple[str | None, str]:
    return staff.id, f"{staff.display_name} ({staff.email})"


def _send_ctx(v: service.SendView) -> dict[str, Any]:
    return {
        "patient_id": v.patient_id,
        "patient_name": v.patient_name,
        "step_key": v.step_key,
        "status": v.status,
        "reason": v.reason_text,
        "decided_at": v.decided_at,
        "delivery": v.delivery,
        "failed": v.failed,
        "last_error": v.last_error,
        "body": v.body,
        "treatment_id": v.treatment_id,
    }


def _plan_ctx(session: Session, staff: StaffUser) -> dict[str, Any]:
    clinic = get_clinic(session)
    steps = service.plan_steps(session)
    keys = {st.key for st in steps}
    return {
        "is_admin": staff.role == "admin",
        "checkin_tz": service.clinic_zone(clinic).key,
        "hour_start": clinic.checkin_hour_start,
        "hour_end": clinic.checkin_hour_end,
        "max_late_days": service.MAX_LATE_DAYS,
        "max_chars": service.MAX_SEGMENTS * 153,
        "steps": [
            {
                "id": st.id,
                "key": st.key,
                "day": st.day,
                "body": st.body,
                "body_es": st.body_es or "",
                "active": bool(st.active),
                "length": service.sms_length(
                    service.render_body(st.body, first_name=service.SAMPLE_FIRST_NAME, clinic_name=clinic.name)
                ),
            }
            for st in steps
        ],
        "missing_defaults": [d["key"] for d in service.DEFAULT_PLAN if d["key"] not in keys],
        "sends": [_send_ctx(v) for v in service.recent_sends(session, limit=50)],
        "form_error": None,
        "error_step": None,
    }


@router.get("/inbox/checkins", include_in_schema=False)
def plan_page(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    ctx = _plan_ctx(session, staff)
    saved = request.query_params.get("saved", "")
    if saved == "defaults":
        ctx["notice"] = "Default check-in steps added."
    elif saved in {st["key"] for st in ctx["steps"]}:
        ctx["notice"] = f"Check-in {saved} saved."
    return render(request, "checkins.html", ctx)


@router.post("/inbox/checkins/steps/{step_id}", include_in_schema=False, dependencies=[verify_csrf, Admin])
def update_step(
    step_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    body: str = Form(""),
    body_es: str | None = Form(None),
    day: str = Form(""),
    active: str = Form(""),
) -> Response:
    step = session.get(CheckinStep, step_id[:64])
    if step is None:
        raise HTTPException(status_code=404, detail="unknown check-in step")
    actor_id, actor_label = _actor(staff)
    try:
        try:
            day_n = int(day.strip())
        except ValueError:
            raise service.PlanError("the day must be a whole number from 0 to 365")
        service.update_step(  # validates everything before it changes anything
            session,
            step_id=step.id,
            body=body,
            body_es=body_es,
            day=day_n,
            active=active in ("on", "1", "true", "yes"),
            actor_id=actor_id,
            actor_label=actor_label,
        )
    except service.PlanError as exc:
        ctx = _plan_ctx(session, staff)
        ctx["form_error"] = str(exc)[:1].upper() + str(exc)[1:] + "."
        ctx["error_step"] = step.id
        for st in ctx["steps"]:
            if st["id"] == step.id:  # keep what the admin typed
                st.update(body=body, body_es=body_es or "", day=day, active=active in ("on", "1", "true", "yes"))
        return render(request, "checkins.html", ctx, status_code=422)
    return RedirectResponse(f"/inbox/checkins?saved={step.key}#step-{step.key}", status_code=303)


@router.post("/inbox/checkins/plan/defaults", include_in_schema=False, dependencies=[verify_csrf, Admin])
def add_default_steps(staff: CurrentStaff, session: SessionDep) -> Response:
    added = service.ensure_default_plan(session)
    if added:
        actor_id, actor_label = _actor(staff)
        audit(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action="checkin_step.add_defaults",
            object_type="checkin_step",
            object_id="*",
            detail="added " + ", ".join(a.key for a in added),
        )
    return RedirectResponse("/inbox/checkins?saved=defaults", status_code=303)


@router.get("/inbox/checkins/patients/{patient_id}", include_in_schema=False)
def patient_page(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    clinic = get_clinic(session)
    tz = service.clinic_zone(clinic)
    today = container.clock.now().astimezone(tz).date()
    view = service.patient_checkins(session, patient_id=patient_id[:64], today=today)
    if view is None:
        raise HTTPException(status_code=404, detail="unknown patient")
    actor_id, actor_label = _actor(staff)
    audit(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="checkins.view",
        object_type="patient",
        object_id=view.patient.id,
    )
    p = view.patient
    ctx = {
        "patient": p,
        "who": f"{p.first_name} {p.last_name}".strip(),
        "treatment": view.treatment,
        "day": view.day,
        "steps": [
            {
                "key": sv.step.key,
                "day": sv.step.day,
                "due_on": sv.due_on,
                "active": bool(sv.step.active),
                "state": sv.state,
                "send": _send_ctx(sv.send) if sv.send is not None else None,
            }
            for sv in view.steps
        ],
        "history": [_send_ctx(v) for v in view.history],
        "hour_start": clinic.checkin_hour_start,
        "hour_end": clinic.checkin_hour_end,
        "checkin_tz": tz.key,
        "max_late_days": service.MAX_LATE_DAYS,
    }
    done = request.query_params.get("done", "")
    if done in ("paused", "resumed"):
        ctx["notice"] = "Check-ins paused for this patient." if done == "paused" else "Check-ins resumed for this patient."
    return render(request, "checkins_patient.html", ctx)


def _set_paused(staff: StaffUser, session: Session, patient_id: str, paused: bool) -> Response:
    actor_id, actor_label = _actor(staff)
    try:
        patient = service.set_paused(
            session, patient_id=patient_id[:64], paused=paused, actor_id=actor_id, actor_label=actor_label
        )
    except service.PlanError:
        raise HTTPException(status_code=404, detail="unknown patient")
    return RedirectResponse(f"/inbox/checkins/patients/{patient.id}?done={'paused' if paused else 'resumed'}", status_code=303)


@router.post("/inbox/checkins/patients/{patient_id}/pause", include_in_schema=False, dependencies=[verify_csrf])
def pause(patient_id: str, staff: CurrentStaff, session: SessionDep) -> Response:
    return _set_paused(staff, session, patient_id, True)


@router.post("/inbox/checkins/patients/{patient_id}/resume", include_in_schema=False, dependencies=[verify_csrf])
def resume(patient_id: str, staff: CurrentStaff, session: SessionDep) -> Response:
    return _set_paused(staff, session, patient_id, False)
