"""The OpenAPI schema describes what the API does (issue 16, item 12). The fuzzer (`make fuzz`,
scripts/fuzz.sh) checks it over thousands of generated requests; these are the fast guards for
each mismatch it found, run in `make test`."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.fakes import FakeAssistant

AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
ANA = {
    "first_name": "Ana",
    "phone": "+12015550123",
    "treatments": [{"procedure": "microneedling", "area": "face", "performed_on": "2026-11-23"}],
}


@pytest.fixture
def api(tmp_path, sqlite_url, fixed_clock):
    from api.app import create_app

    app = create_app(make_settings(tmp_path, sqlite_url), assistant=FakeAssistant(), clock=fixed_clock, start_workers=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.container.engine.dispose()


@pytest.fixture
def schema(api) -> dict:
    r = api.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _component(schema: dict, name: str) -> dict:
    return schema["components"]["schemas"][name]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = _component(schema, node["$ref"].rsplit("/", 1)[1])
    return node


def _response_schema(schema: dict, path: str, method: str, code: str) -> dict:
    return _resolve(schema, schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"])


def _allows_null(prop: dict) -> bool:
    return any(alt.get("type") == "null" for alt in prop.get("anyOf", []))


# ---------------------------------------------------------------------- the schema says it
def test_the_phone_carries_the_e164_pattern_and_the_procedure_is_an_enum(schema):
    phone = _component(schema, "PatientIn")["properties"]["phone"]
    assert phone["pattern"] == r"^\+[1-9][0-9]{1,14}$"
    assert re.fullmatch(phone["pattern"].strip("^$"), ANA["phone"])
    procedure = _component(schema, "TreatmentIn")["properties"]["procedure"]
    assert procedure["enum"] == ["microneedling"]
    assert _component(schema, "TreatmentIn")["properties"]["performed_on"]["format"] == "date"


def test_nullable_fields_say_so(schema):
    """patient_id is null for an anonymous web chat: 1,139 schema failures said "string"."""
    escalation = _component(schema, "EscalationOut")
    assert _allows_null(escalation["properties"]["patient_id"]) and "patient_id" in escalation["required"]
    turn = _component(schema, "TurnOut")["properties"]
    assert _allows_null(turn["topic"]) and _allows_null(turn["escalation"])
    assert _allows_null(_component(schema, "SessionIn")["properties"]["chat_token"])
    assert not _allows_null(escalation["properties"]["id"])


def test_a_422_detail_is_a_sentence_or_a_list(schema):
    detail = _response_schema(schema, "/api/v1/chat/sessions/{session_id}/messages", "post", "422")["properties"]["detail"]
    assert {alt.get("type") for alt in detail["anyOf"]} == {"string", "array"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.mark.parametrize(
    "path,method,codes",
    [
        ("/api/v1/patients", "post", {"201", "400", "401", "409", "413", "422", "503"}),
        ("/api/v1/patients/{patient_id}/treatments", "post", {"201", "401", "404", "422"}),
        ("/api/v1/escalations", "get", {"200", "401", "422"}),
        ("/api/v1/chat/sessions", "post", {"201", "404", "422"}),
        ("/api/v1/chat/sessions/{session_id}/messages", "post", {"200", "404", "413", "422", "429"}),
        ("/api/v1/chat/sessions/{session_id}/messages", "get", {"200", "404"}),
        ("/healthz", "get", {"200", "503"}),
        ("/webhooks/twilio/sms", "post", {"200", "403", "413", "422"}),
        ("/webhooks/twilio/status", "post", {"204", "403", "422"}),
    ],
)
def test_every_status_a_route_answers_is_documented(schema, path, method, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_every_operation_documents_its_success_body(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, (method, path)
            if ok[0] != "204":
                assert op["responses"][ok[0]].get("content"), (method, path)


def test_the_integration_api_declares_its_bearer_token(schema):
    assert schema["components"]["securitySchemes"]["ApiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "AFTERCARE_API_TOKEN",
    }
    assert schema["paths"]["/api/v1/patients"]["post"]["security"] == [{"ApiToken": []}]
    assert "security" not in schema["paths"]["/api/v1/chat/sessions"]["post"]


# ---------------------------------------------------------------------- the API does what it says
@pytest.mark.parametrize("text", [False, 0, 5, None, ["hi"], {"t": "hi"}])
def test_a_message_text_that_is_not_a_string_is_422(api, text):
    """`{"text": false}` was coerced to "False" and answered 200."""
    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    r = api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)


@pytest.mark.parametrize(
    "patch",
    [
        {"first_name": 5},
        {"first_name": "\x1c\u3000 "},  # blank once stripped: the pattern says so too
        {"last_name": False},
        {"phone": 12015550123},
        {"phone": "+1 201 555 0123"},  # E.164 has no spaces
        {"phone": "+12015550123\n"},
        {"treatments": [{"procedure": "Microneedling", "area": "face", "performed_on": "2026-11-23"}]},
        {"treatments": [{"procedure": "microneedling", "area": 7, "performed_on": "2026-11-23"}]},
        {"treatments": [{"procedure": "microneedling", "area": "face", "performed_on": 0}]},
        {"treatments": [{"procedure": "microneedling", "area": "face", "performed_on": "2026-1-5"}]},
    ],
)
def test_a_patient_the_schema_refuses_is_422(api, schema, patch):
    r = api.post("/api/v1/patients", json={**ANA, **patch}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert "detail" in r.json()


def test_a_patient_the_schema_allows_is_created(api):
    r = api.post("/api/v1/patients", json={**ANA, "phone": "+442071838750", "first_name": " Ana "}, headers=AUTH)
    assert r.status_code == 201, r.text
    t = {"procedure": "microneedling", "area": "neck", "performed_on": "2026-11-25"}
    r2 = api.post(f"/api/v1/patients/{r.json()['id']}/treatments", json=t, headers=AUTH)
    assert r2.status_code == 201
    assert r2.json() == {"id": r2.json()["id"], "patient_id": r.json()["id"], **t}


def test_a_null_body_opens_an_anonymous_session_as_the_schema_says(api, schema):
    body = schema["paths"]["/api/v1/chat/sessions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert _allows_null(body)
    assert api.post("/api/v1/chat/sessions", content=b"null", headers={"Content-Type": "application/json"}).status_code == 201


def test_a_body_that_is_not_a_json_object_is_422(api):
    """pydantic 1 made a model of any list of pairs: `[]` opened a chat session (found by make fuzz)."""
    assert api.post("/api/v1/chat/sessions", json=[]).status_code == 422
    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    assert api.post(f"/api/v1/chat/sessions/{sid}/messages", json=[["text", "hi"]]).status_code == 422
    pairs = [["first_name", "Ana"], ["phone", "+12015550123"]]
    assert api.post("/api/v1/patients", json=pairs, headers=AUTH).status_code == 422
    treatment = [["performed_on", "2026-11-23"]]
    assert api.post("/api/v1/patients", json={**ANA, "treatments": [treatment]}, headers=AUTH).status_code == 422


def test_anonymous_escalations_list_with_a_null_patient_id(api):
    sid = api.post("/api/v1/chat/sessions", json={}).json()["session_id"]
    api.post(f"/api/v1/chat/sessions/{sid}/messages", json={"text": "i cant breathe and my tongue is swelling"})
    rows = api.get("/api/v1/escalations", headers=AUTH).json()
    assert rows and rows[0]["patient_id"] is None


def test_a_non_ascii_bearer_token_is_401_not_500(api):
    """hmac.compare_digest raised TypeError on a str with a non-ASCII character."""
    r = api.get("/api/v1/escalations", headers={"Authorization": "Bearer caf\u00e9".encode("latin-1")})
    assert r.status_code == 401


def test_a_405_allows_every_method_of_the_path(api):
    """Starlette named only the first route's methods (`Allow: POST` where GET works too)."""
    r = api.request("PUT", "/api/v1/chat/sessions/x/messages")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}


def test_healthz_checks_the_database_off_the_event_loop(api, monkeypatch):
    """On the loop, its SELECT waited for SQLite's write lock while the holder's commit waited for the
    loop: 15 s stalls and a false "database" missing under two concurrent clients (found by make fuzz)."""
    import asyncio

    engine = api.app.state.container.engine
    real_connect = engine.connect
    on_loop: list[bool] = []

    def connect(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(engine, "connect", connect)
    assert api.get("/healthz").status_code == 200
    assert on_loop and not any(on_loop)
