"""Integration API for the clinic's booking system (bearer token)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import Field, StrictStr, validator

from api.deps import ApiToken, ContainerDep, SessionDep
from api.schemas import E164_PATTERN, JSON_BODY_ERRORS, NOT_BLANK_PATTERN, ApiModel, link, responses, strict_date
from core import escalations as esc_service
from core import patients as patient_service
from core.audit import record as audit
from core.enums import ESCALATING_LEVELS, EscalationStatus
from core.inbound import clean_text
from core.models import Patient

# every operation here needs the bearer token (401), and reads or writes the database (503)
router = APIRouter(prefix="/api/v1", tags=["integration"], dependencies=[ApiToken], responses=responses(401, 503))

# the procedures the assistant knows (core.patients.PROCEDURES), an enum in the schema
Procedure = Literal[patient_service.PROCEDURES]  # type: ignore[valid-type]
# the vocabularies of core.enums (defined once there)
Level = Literal[ESCALATING_LEVELS]  # type: ignore[valid-type]
Status = Literal[tuple(s.value for s in EscalationStatus)]  # type: ignore[misc]
E164 = re.compile(E164_PATTERN.strip("^$"))


class TreatmentIn(ApiModel):
    procedure: Procedure = "microneedling"
    area: StrictStr = Field("face", max_length=64)
    performed_on: date = Field(..., description="YYYY-MM-DD")

    _performed_on = validator("performed_on", pre=True, allow_reuse=True)(strict_date)


class PatientIn(ApiModel):
    first_name: StrictStr = Field(..., min_length=1, max_length=100, regex=NOT_BLANK_PATTERN)
    last_name: StrictStr = Field("", max_length=100)
    # the public contract (docs/api.md) takes E.164 only; staff forms and the CSV import also
    # accept numbers as people write them. A number of a length no country has is still a 422.
    phone: StrictStr = Field(..., max_length=16, regex=E164_PATTERN, description="E.164, e.g. +12015550123")
    treatments: list[TreatmentIn] = Field(default_factory=list)
    language: Literal["en", "es"] | None = Field(
        None, description="the patient's preferred language for texts and the chat; absent: detected from their messages"
    )

    @validator("phone")
    def _phone(cls, v: str) -> str:  # noqa: N805
        if not E164.fullmatch(v):  # the regex above is matched from the start only ("+1...\n" passed)
            raise ValueError("phone must be in E.164 format, e.g. +12015550123")
        try:
            return patient_service.normalize_phone(v)
        except patient_service.PatientError as exc:
            raise ValueError(str(exc)) from exc

    @validator("first_name")
    def _name(cls, v: str) -> str:  # noqa: N805
        return clean_text(v).strip()


class PatientCreated(ApiModel):
    id: str
    chat_token: str
    chat_url: str | None = None


class TreatmentCreated(ApiModel):
    id: str
    patient_id: str
    procedure: Procedure
    area: str
    performed_on: date


class EscalationOut(ApiModel):
    id: str
    level: Level
    status: Status
    patient_id: str | None = Field(..., description="null: an anonymous web chat or an unknown phone")
    conversation_id: str
    reason: str
    created_at: str


@router.post(
    "/patients",
    status_code=201,
    response_model=PatientCreated,
    operation_id="create_patient",
    responses={
        201: {
            "description": "Created",
            "links": {
                "AddTreatment": link("add_treatment", patient_id="$response.body#/id"),
                "OpenChat": link("create_chat_session", request_body={"chat_token": "$response.body#/chat_token"}),
            },
        },
        **responses(*JSON_BODY_ERRORS, 409),
    },
)
def create_patient(body: PatientIn, session: SessionDep, container: ContainerDep) -> PatientCreated:
    try:
        patient = patient_service.create_patient(
            session,
            first_name=body.first_name,
            last_name=body.last_name,
            phone=body.phone,
            treatments=[t.dict() for t in body.treatments],
            language=body.language,
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


@router.post(
    "/patients/{patient_id}/treatments",
    status_code=201,
    response_model=TreatmentCreated,
    operation_id="add_treatment",
    responses=responses(*JSON_BODY_ERRORS, 404, d404="patient not found"),
)
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


@router.get("/escalations", response_model=list[EscalationOut], operation_id="list_escalations", responses=responses(422))
def list_escalations(
    session: SessionDep,
    status: Status | None = Query(None),
    level: Level | None = Query(None),
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
