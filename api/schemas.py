"""What the OpenAPI schema says about bodies and errors, so that it describes what the API does.

FastAPI, left to itself, documented every 422 as pydantic's list of errors (our routes also answer
``{"detail": "a sentence"}``), no other 4xx, and pydantic 1 printed ``str | None`` fields as plain
strings (``patient_id`` is ``null`` for an anonymous chat). Issue 16, item 12.

- ``ApiModel``: the base of the request and response models. Fields that may be ``null`` say so
  (``anyOf [..., {"type": "null"}]``, OpenAPI 3.1).
- ``ErrorOut`` / ``ValidationErrorOut``: the error bodies, ``{"detail": ...}`` (docs/api.md).
- ``responses(...)``: the ``responses=`` of a route decorator for the error codes it can answer.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar, Union

from pydantic import BaseModel, StrictInt, StrictStr
from pydantic.errors import DictError

# E.164: "+", a country code that does not start with 0, at most 15 digits in all. [0-9], not \d:
# Python's \d also matches other scripts' digits, which no phone number is written with.
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
# a calendar date as JSON Schema's "date" format writes it (pydantic 1 also took "2026-1-5" and numbers)
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Text that is not blank once cleaned (core.inbound.clean_text turns control characters into spaces)
# and stripped (str.strip: the characters str.isspace() names): at least one character outside this
# class. Spelled out, not \s: Python's \s and JSON Schema's (ECMA) disagree on some of them.
_BLANK = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = rf"^[{_BLANK}]*[^{_BLANK}]"


Model = TypeVar("Model", bound="ApiModel")


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    title = prop.pop("title", None)
    description = prop.pop("description", None)
    default = prop.pop("default", None)
    out: dict[str, Any] = {"anyOf": [prop, {"type": "null"}]}
    if title is not None:
        out["title"] = title
    if description is not None:
        out["description"] = description
    if default is not None:
        out["default"] = default
    return out


class ApiModel(BaseModel):
    # A model of the public API: a field that allows None is nullable in the schema. (A comment, not a
    # docstring: pydantic would print a docstring as the description of every model without one.)

    @classmethod
    def validate(cls: type[Model], value: Any) -> Model:
        # a JSON object only: pydantic 1 also made a model of any list of pairs, so `[]` opened a
        # chat session and `[["first_name", "Ana"], ...]` created a patient (the schema says object)
        if not isinstance(value, (dict, cls)):
            raise DictError()
        return super().validate(value)  # type: ignore[misc]

    class Config:
        @staticmethod
        def schema_extra(schema: dict[str, Any], model: type[BaseModel]) -> None:
            props = schema.get("properties", {})
            for field in model.__fields__.values():
                name = field.alias
                if field.allow_none and name in props and "anyOf" not in props[name]:
                    props[name] = _nullable(props[name])


def strict_date(value: Any) -> date:
    """``YYYY-MM-DD`` only (a validator with ``pre=True``): no numbers, no single-digit months."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be a real calendar date, YYYY-MM-DD") from exc


# ---------------------------------------------------------------------- error bodies
class ErrorOut(ApiModel):
    """Every 4xx/5xx this API answers: ``{"detail": "what was wrong"}``."""

    detail: StrictStr


class ValidationErrorItem(ApiModel):
    loc: list[Union[StrictStr, StrictInt]]
    msg: StrictStr
    type: StrictStr


class ValidationErrorOut(ApiModel):
    """422: a sentence from a route's own check, or the list of fields the request validation refused."""

    detail: Union[StrictStr, list[ValidationErrorItem]]


_DESCRIPTIONS = {
    400: "The body is not valid JSON",
    401: "Missing or wrong bearer token",
    403: "Missing or invalid X-Twilio-Signature",
    404: "Not found",
    409: "Conflict (a patient with this phone already exists)",
    413: "Request body too large (64 KiB)",
    422: "Invalid input",
    429: "Too many messages in this chat session; send it again after Retry-After seconds",
    503: "Briefly unavailable (the database); try again after Retry-After seconds",
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "string", "pattern": "^[0-9]+$"}}


def responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route decorator: each code's ``{"detail": ...}`` body (and headers).

    ``descriptions`` overrides a code's description: ``responses(404, d404="unknown chat session")``."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ValidationErrorOut if code == 422 else ErrorOut,
            "description": descriptions.get(f"d{code}", _DESCRIPTIONS.get(code, "Error")),
        }
        if code == 401:
            entry["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}, "required": True}}
        elif code == 429:
            entry["headers"] = {"Retry-After": {**_RETRY_AFTER, "required": True}}
        elif code == 503:
            entry["headers"] = {"Retry-After": _RETRY_AFTER}
        out[code] = entry
    return out


# what every route with a JSON body can answer before it runs: invalid JSON (400), too large (413),
# invalid fields (422); and every route that reads the database, during an outage (503)
JSON_BODY_ERRORS = (400, 413, 422)


# The OpenAPI description of the webhooks: Twilio's form fields (the route reads the raw form: every
# field must be signed) and the X-Twilio-Signature header; TwiML back.
TWIML_CONTENT = {"text/xml": {"schema": {"type": "string"}}}
SMS_FIELDS = ("MessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "OptOutType")
STATUS_FIELDS = ("MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "ErrorMessage")


def twilio_webhook_doc(fields: tuple[str, ...], *, required: list[str]) -> dict[str, Any]:
    signature = {"description": "Twilio's HMAC-SHA1 signature of the public URL and the form", "type": "string"}
    return {
        "parameters": [{"name": "X-Twilio-Signature", "in": "header", "required": True, "schema": signature}],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {name: {"type": "string"} for name in fields},
                        "required": required,
                    }
                }
            },
        },
    }


def finish_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """What FastAPI cannot say from the routes: an optional JSON body may also be ``null`` (FastAPI reads
    ``null`` as no body: ``POST /api/v1/chat/sessions`` with ``null`` opens an anonymous session)."""
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            body = op.get("requestBody") if isinstance(op, dict) else None
            if not body or body.get("required"):
                continue
            media = body.get("content", {}).get("application/json")
            if media and "schema" in media and "anyOf" not in media["schema"]:
                media["schema"] = {"anyOf": [media["schema"], {"type": "null"}]}
    _untyped_form_text(schema)
    return schema


def _untyped_form_text(schema: dict[str, Any]) -> None:
    """A multipart form has no JSON types: every text field arrives as text ("5", "null" and "{}" are
    valid captions). Say so, instead of a ``"type": "string"`` a client could "violate" with a number."""
    components = schema.get("components", {}).get("schemas", {})
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            media = (op.get("requestBody") or {}).get("content", {}).get("multipart/form-data") if isinstance(op, dict) else None
            ref = (media or {}).get("schema", {}).get("$ref", "")
            form = components.get(ref.rsplit("/", 1)[-1]) if ref else None
            for field in (form or {}).get("properties", {}).values():
                if field.get("type") == "string" and "format" not in field:
                    del field["type"]
                    field.setdefault("description", "text (a form field: any value is read as text)")


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link (the stateful fuzzer follows them): ``parameters`` name ``$response`` values."""
    body = parameters.pop("request_body", None)
    out: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    return out
