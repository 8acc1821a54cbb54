"""Integration API for the clinic's booking system (bearer token)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, validator

from api.deps import ApiToken, ContainerDep, SessionDep
from core import escalations as esc_service
from core import patients as patient_service
from core.audit import record as audit
from core.models import Patient

router = APIRouter(prefix="/api/v1", tags=["integration"], dependencies=[ApiToken])


class TreatmentIn(BaseModel):
    procedure: str = Field("microneedling", max_length=64)
    area: str = Field("face", max_length=64)
    performed_on: date

    @validator("procedure")
    def _procedure(cls, v: str) -> str:  # noqa: N805
        v = v.strip().lower()
        if v not in patient_service.PROCEDURES:
            raise ValueError(f"unsupported procedure; supported: {', '.join(patient_service.PROCEDURES)}")
        return v


class PatientIn(BaseModel):
    first_name: str = Field(..., min_length=1, max_length=100)
    last_name: str = Field("", max_length=100)
    phone: str = Field(..., max_length=32)
    treatments: list[TreatmentIn] = Field(default_factory=list)

    @validator("phone")
    def _phone(cls, v: str) -> str:  # noqa: N805
        # the public contract (docs/api.md) takes E.164 with its "+" and country code; staff forms
        # and the CSV import also accept numbers as people write them
        if not v.strip().startswith("+"):
            raise ValueError("phone must be in E.164 format, e.g. +12015550123")
        try:
            return patient_service.normalize_phone(v)
        except patient_service.PatientError as exc:
            raise ValueError(str(exc)) from exc

    @validator("first_name")
    def _name(cls, v: str) -> str:  # noqa: N805
        if not v.strip():
            raise ValueError("first_name is required")
        return v.strip()


class PatientCreated(BaseModel):
    id: str
    chat_token: str
    chat_url: str | None = None


class EscalationOut(BaseModel):
    id: str
    level: str
    status: str
    patient_id: str | None
    conversation_id: str
    reason: str
    created_at: str


@router.post("/patients", status_code=201, response_model=PatientCreated)
def create_patient(body: PatientIn, session: SessionDep, container: ContainerDep) -> PatientCreated:
    try:
        patient = patient_service.create_patient(
            session,
            first_name=body.first_name,
            last_name=body.last_name,
            phone=body.phone,
            treatments=[t.dict() for t in body.treatments],
        )
    except patient_service.DuplicatePhone as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except patient_service.PatientError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    audit(
        session,
        actor_id=None,
        actor_label="integration-api",
        action="patient.create",
        object_type="patient",
        object_id=patient.id,
    )
    return PatientCreated(
        id=patient.id,
        chat_token=patient.chat_token,
        chat_url=f"{container.settings.public_url}/chat/{patient.chat_token}",
    )


@router.post("/patients/{patient_id}/treatments", status_code=201)
def add_treatment(patient_id: str, body: TreatmentIn, session: SessionDep) -> dict:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise HTTPException(status_code=404, detail="patient not found")
    try:
        t = patient_service.add_treatment(session, patient=patient, **body.dict())
    except patient_service.PatientError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    audit(
        session,
        actor_id=None,
        actor_label="integration-api",
        action="treatment.create",
        object_type="patient",
        object_id=patient.id,
    )
    return {
        "id": t.id,
        "patient_id": patient.id,
        "procedure": t.procedure,
        "area": t.area,
        "performed_on": t.performed_on.isoformat(),
    }


@router.get("/escalations", response_model=list[EscalationOut])
def list_escalations(
    session: SessionDep,
    status: str | None = Query(None, regex="^(open|acknowledged|resolved)$"),
    level: str | None = Query(None, regex="^(emergency|urgent|routine)$"),
) -> list[EscalationOut]:
    rows = esc_service.list_escalations(session, status=status, level=level)
    audit(
        session, actor_id=None, actor_label="integration-api", action="escalation.list", object_type="escalation", object_id="*"
    )
    return [
        EscalationOut(
            id=e.id,
            level=e.level,
            status=e.status,
            patient_id=e.patient_id,
            conversation_id=e.conversation_id,
            reason=e.reason,
            created_at=e.created_at.isoformat(),
        )
        for e in rows
    ]
