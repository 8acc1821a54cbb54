"""Patients: search, add one, import a CSV, one patient's page, add a treatment."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff
from api.inbox.routes.common import CHANNEL_LABELS, CSRF, LEVEL_LABELS, STATUS_LABELS, audit_action, go, not_found
from api.inbox.templating import render
from core import inbox as inbox_service
from core import patients as patient_service
from core import recovery
from core.clinic import clinic_today
from core.language import LANGUAGE_NAMES
from core.models import Patient
from core.timeline import days_since

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------------ patients
@router.get("/inbox/patients")
def patients_page(
    request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep, q: str = Query("", max_length=100)
) -> Response:
    rows = inbox_service.search_patients(session, q)
    today = clinic_today(session, container.clock)
    latest = {p.id: recovery.latest_treatment(session, p.id, today) for p in rows}
    upcoming = {p.id: recovery.next_treatment(session, p.id, today) for p in rows}
    audit_action(session, staff, "patient.list", "patient", "*", detail=f"search={'yes' if q else 'no'} rows={len(rows)}")
    return render(request, "patients.html", {"patients": rows, "q": q, "latest": latest, "upcoming": upcoming})


@router.get("/inbox/patients/new")
def new_patient_page(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "patient_new.html", {"form": {}, "form_error": None})


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@router.post("/inbox/patients/new", dependencies=[CSRF])
def create_patient(
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    first_name: str = Form(""),
    last_name: str = Form(""),
    phone: str = Form(""),
    performed_on: str = Form(""),
    area: str = Form("face"),
) -> Response:
    form = {"first_name": first_name, "last_name": last_name, "phone": phone, "performed_on": performed_on, "area": area}
    when = _parse_date(performed_on) if performed_on else None
    problem = None
    if performed_on and when is None:
        problem = "The treatment date must be a date (YYYY-MM-DD)."
    if problem is None:
        try:
            with session.begin_nested():
                patient = patient_service.create_patient(
                    session,
                    first_name=first_name[:100],
                    last_name=last_name[:100],
                    phone=phone[:32] or None,
                    treatments=[{"performed_on": when, "area": area[:64] or "face"}] if when else [],
                )
        except patient_service.DuplicatePhone:
            problem = "A patient with this phone number already exists."
        except patient_service.PatientError as exc:
            problem = str(exc).capitalize() + "."
    if problem is not None:
        return render(request, "patient_new.html", {"form": form, "form_error": problem}, status_code=422)
    audit_action(session, staff, "patient.create", "patient", patient.id, detail=f"treatments={1 if when else 0}")
    return go(f"/inbox/patients/{patient.id}", done="patient_created")


@router.get("/inbox/patients/import")
def import_page(request: Request, staff: CurrentStaff) -> Response:
    return render(request, "patient_import.html", {"report": None, "columns": inbox_service.CSV_COLUMNS})


@router.post("/inbox/patients/import", dependencies=[CSRF])
def import_patients(
    request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep, file: UploadFile = File(...)
) -> Response:
    data = file.file.read(inbox_service.MAX_IMPORT_BYTES + 1)
    report = inbox_service.import_patients_csv(session, data, today=clinic_today(session, container.clock))
    detail = f"created={report.created} rejected={report.rejected}" + (" file_refused" if report.error else "")
    audit_action(session, staff, "patient.import", "patient", "*", detail=detail)
    status = 422 if report.error and not report.rows else 200
    return render(request, "patient_import.html", {"report": report, "columns": inbox_service.CSV_COLUMNS}, status_code=status)


@router.get("/inbox/patients/{patient_id}")
def patient_page(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return not_found(request, "patient")
    convs = inbox_service.patient_conversations(session, patient.id)
    escs = {c.id: inbox_service.conversation_escalations(session, c.id) for c in convs}
    today = clinic_today(session, container.clock)
    latest = recovery.latest_treatment(session, patient.id, today)
    day = days_since(latest.performed_on, today) if latest else None
    audit_action(session, staff, "patient.view", "patient", patient.id)
    return render(
        request,
        "patient.html",
        {
            "patient": patient,
            "treatments": list(reversed(patient.treatments)),
            "conversations": convs,
            "escalations": escs,
            "chat_url": f"{container.settings.public_url}/chat/{patient.chat_token}",
            "chat_link_expires": patient_service.chat_link_expires_at(patient),
            "chat_link_expired": patient_service.chat_link_expired(patient, container.clock.now()),
            "day": day,
            "today": today,
            "language_names": LANGUAGE_NAMES,
            "channel_labels": CHANNEL_LABELS,
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )


@router.post("/inbox/patients/{patient_id}/send-link", dependencies=[CSRF])
def send_chat_link(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, container: ContainerDep
) -> Response:
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return not_found(request, "patient")
    try:
        inbox_service.send_chat_link(session, patient, public_url=container.settings.public_url)
    except inbox_service.NotSendable:
        return go(f"/inbox/patients/{patient.id}", error="link_not_sent")
    audit_action(session, staff, "patient.chat_link_sent", "patient", patient.id)
    return go(f"/inbox/patients/{patient.id}", done="link_sent")


@router.post("/inbox/patients/{patient_id}/language", dependencies=[CSRF])
def set_language(
    patient_id: str, request: Request, staff: CurrentStaff, session: SessionDep, language: str = Form("")
) -> Response:
    """The patient's preferred language: texts, check-ins and the chat start in it (empty: detect it)."""
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return not_found(request, "patient")
    try:
        patient.language = patient_service.preferred_language(language[:16])
    except patient_service.PatientError:
        return go(f"/inbox/patients/{patient.id}", error="bad_language")
    audit_action(session, staff, "patient.language", "patient", patient.id, detail=f"language={patient.language or '-'}")
    return go(f"/inbox/patients/{patient.id}", done="language_saved")


@router.post("/inbox/patients/{patient_id}/treatments", dependencies=[CSRF])
def add_treatment(
    patient_id: str,
    request: Request,
    staff: CurrentStaff,
    session: SessionDep,
    performed_on: str = Form(""),
    area: str = Form("face"),
) -> Response:
    patient = session.get(Patient, patient_id[:64])
    if patient is None:
        return not_found(request, "patient")
    when = _parse_date(performed_on)
    if when is None:
        return render(
            request,
            "error.html",
            {
                "title": "Treatment not added",
                "message": "The treatment date must be a date (YYYY-MM-DD).",
                "back": f"/inbox/patients/{patient.id}",
            },
            status_code=422,
        )
    t = patient_service.add_treatment(session, patient=patient, performed_on=when, area=area[:64] or "face")
    audit_action(session, staff, "treatment.create", "patient", patient.id, detail=f"treatment={t.id}")
    return go(f"/inbox/patients/{patient.id}", done="treatment_added")
