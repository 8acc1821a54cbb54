"""SMS through Twilio, terminated in FastAPI (not Rasa's connector).

POST /webhooks/twilio/sms      inbound SMS: signature check, keywords, store once per MessageSid,
                               empty TwiML at once; the turn runs in the background
POST /webhooks/twilio/status   delivery receipts for what the dispatcher sent
GET  /simulator (+ /simulator/api/...)  play a patient's phone locally (development/test only)

Workers (api.app.create_app runs them in the app's lifespan): the outbox dispatcher loop, and the
recovery sweep that answers inbound SMS stored but not answered (a restart, a crashed turn).
The SMS channel, the sender and the dispatch policy are the container's (built in create_app).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from api.container import Container
from api.deps import ContainerDep, SessionDep
from api.inbox.auth import CurrentStaff
from api.schemas import SMS_FIELDS, STATUS_FIELDS, TWIML_CONTENT, responses, twilio_webhook_doc
from api.sms.runtime import SmsRuntime
from api.sms.signature import Params, sign, valid, webhook_auth_token, webhook_url
from api.sms.twilio_errors import describe_error, is_opt_out
from core.clinic import get_clinic
from core.db import session_scope
from core.dispatch import Dispatcher, record_delivery
from core.inbound import clean_text
from core.models import Conversation, Message, OutboxMessage, Patient
from core.patients import PatientError, normalize_phone
from core.phones import NotAPhoneNumber, to_e164
from core.settings import PROJECT_ROOT
from core.sms import MAX_MEDIA, SMS_CHANNEL, InboundSms, can_reply_to, format_sms, is_opted_out, keyword_of, segment_count

log = logging.getLogger("aftercare.twilio")
router = APIRouter(tags=["sms"])

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_FORM_BYTES = 64 * 1024
SID_RE = re.compile(r"^[A-Za-z0-9]{2,64}$")
DB_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)
SIMULATOR_HTML = PROJECT_ROOT / "api" / "templates" / "simulator.html"


def twiml(messages: list[str] | None = None) -> Response:
    body = "".join(f"<Message>{escape(m)}</Message>" for m in messages or [])
    return Response(
        content=f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>' if body else EMPTY_TWIML,
        media_type="text/xml",
    )


# ---------------------------------------------------------------------- background runtime
def runtime(container: Container) -> SmsRuntime:
    """The SMS runtime of the running event loop (a new one when the loop changed, e.g. in tests)."""
    rt = container.sms_runtime
    if rt is None or rt.closed or rt.loop is not asyncio.get_running_loop():
        if rt is not None:
            rt.close()
        rt = SmsRuntime(container.sms_turn_concurrency)
        container.sms_runtime = rt
    return rt


def schedule(container: Container, message_id: str, conversation_id: str, *, allow_stale: bool = False) -> bool:
    """Run the turn for a stored message in the background (once per message in this process)."""
    rt = runtime(container)
    if message_id in rt.inflight:
        return False
    rt.inflight.add(message_id)
    task = asyncio.create_task(_turn(container, rt, message_id, conversation_id, allow_stale), name=f"sms-turn-{message_id}")
    rt.tasks.add(task)
    task.add_done_callback(rt.tasks.discard)
    return True


async def _turn(container: Container, rt: SmsRuntime, message_id: str, conversation_id: str, allow_stale: bool) -> None:
    # this replica's texts of one conversation queue here in arrival order (asyncio.Lock is FIFO),
    # so they wait without holding a slot of the semaphore; the turn lock across replicas is
    # core.turn_lock, taken inside handle()
    lock = rt.conv_locks.setdefault(conversation_id, asyncio.Lock())
    rt.conv_users[conversation_id] = rt.conv_users.get(conversation_id, 0) + 1
    try:
        async with lock, rt.sem:
            await container.sms_channel.handle(message_id, allow_stale=allow_stale)
    except Exception:
        log.exception("SMS turn for message %s failed; the recovery sweep will retry it", message_id)
    finally:
        rt.inflight.discard(message_id)
        rt.conv_users[conversation_id] -= 1
        if rt.conv_users[conversation_id] <= 0:
            rt.conv_users.pop(conversation_id, None)
            rt.conv_locks.pop(conversation_id, None)
        rt.wakeup.set()


async def drain(container: Container, timeout: float = 10.0) -> None:
    """Wait (up to ``timeout``) for the background turns of this process to finish."""
    rt = runtime(container)
    if rt.tasks:
        await asyncio.wait(set(rt.tasks), timeout=timeout)


# ---------------------------------------------------------------------- signature
async def verified_params(request: Request, container: Container) -> Params:
    """The form fields, once X-Twilio-Signature has been checked against the public URL (else 403)."""
    settings = container.settings
    token = webhook_auth_token(settings)
    if token is None:
        log.error("Twilio webhook refused: TWILIO_AUTH_TOKEN is not set")
        raise HTTPException(status_code=403, detail="Twilio webhooks are not configured on this server")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="request too large")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="request too large")
    params = Params(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    url = webhook_url(settings, request.url.path, request.url.query)
    signature = request.headers.get("x-twilio-signature")
    if not valid(token, url, params, signature):
        log.warning("Twilio webhook %s refused: %s X-Twilio-Signature", request.url.path, "invalid" if signature else "missing")
        raise HTTPException(status_code=403, detail="missing or invalid X-Twilio-Signature")
    return params


def _inbound(params: Params) -> InboundSms:
    sid = (params.first("MessageSid") or params.first("SmsSid")).strip()
    if not SID_RE.match(sid):
        raise HTTPException(status_code=422, detail="MessageSid is missing or malformed")
    phone = params.first("From").strip()
    if not phone or len(phone) > 32:
        raise HTTPException(status_code=422, detail="From is missing or malformed")
    try:
        phone = to_e164(phone)  # "2015550123" or "(201) 555-0123" is the patient's "+12015550123"
    except NotAPhoneNumber:
        pass  # a short code or a sender name: kept as given (stored, screened, handed to staff, never answered)
    try:
        num_media = max(0, min(MAX_MEDIA, int(params.first("NumMedia", "0") or 0)))
    except ValueError:
        num_media = 0
    media = [u for u in (params.first(f"MediaUrl{i}").strip() for i in range(num_media)) if u][:MAX_MEDIA]
    return InboundSms(
        message_sid=sid,
        from_phone=phone,
        body=clean_text(params.first("Body")),
        to_phone=params.first("To"),
        media_urls=[u[:1000] for u in media],
        opt_out_type=params.first("OptOutType").strip() or None,
    )


# ---------------------------------------------------------------------- webhooks
@router.post(
    SMS_PATH,
    response_class=Response,
    responses={
        200: {"description": "TwiML (empty, or the safe answer while the database is down)", "content": TWIML_CONTENT},
        **responses(403, 413, 422, d422="MessageSid or From is missing or malformed"),
    },
    openapi_extra=twilio_webhook_doc(SMS_FIELDS, required=["MessageSid", "From"]),
)
async def inbound_sms(request: Request, container: ContainerDep) -> Response:
    params = await verified_params(request, container)
    inbound = _inbound(params)
    try:
        rt = runtime(container)
        stored = await asyncio.get_running_loop().run_in_executor(rt.webhook_pool, container.sms_channel.store, inbound)
    except DB_DOWN:
        return _database_down(container, inbound)
    except Exception:  # whatever failed, the message is screened, answered safely and spooled: never lost
        log.exception("storing SMS %s failed; screened without the database and spooled", inbound.message_sid)
        return _database_down(container, inbound)
    if stored.needs_turn:
        schedule(container, stored.message_id, stored.conversation_id)
    elif stored.queued_replies:
        rt.wakeup.set()
    return twiml()


def _database_down(container: Container, inbound: InboundSms) -> Response:
    """No database: screen anyway, spool the message (replayed later), answer in the TwiML itself."""
    log.error("database unavailable: SMS %s screened without it and spooled", inbound.message_sid)
    result = container.conversations.screen_without_database(
        channel=SMS_CHANNEL,
        conversation_id=None,
        text=inbound.body or "",  # the screen reads the whole text
        extra={
            "phone": inbound.from_phone,
            "external_id": inbound.message_sid,
            "media_urls": inbound.media_urls,
            "opt_out_type": inbound.opt_out_type,  # a STOP must still change consent on replay
        },
    )
    if keyword_of(inbound.body, opt_out_type=inbound.opt_out_type) is not None:
        return twiml()  # never answer STOP/START/HELP with a holding reply
    if not can_reply_to(inbound.from_phone):
        return twiml()  # a short code or a sender name cannot be texted back
    parts = [p for r in result.replies for p in format_sms(r.text)]
    return twiml(parts)


@router.post(
    STATUS_PATH,
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Receipt recorded (or for a message this server does not know)"},
        **responses(403, 413, 422, 503, d422="MessageSid and MessageStatus are required"),
    },
    openapi_extra=twilio_webhook_doc(STATUS_FIELDS, required=["MessageSid", "MessageStatus"]),
)
async def delivery_status(request: Request, container: ContainerDep) -> Response:
    params = await verified_params(request, container)
    sid = (params.first("MessageSid") or params.first("SmsSid")).strip()
    status = (params.first("MessageStatus") or params.first("SmsStatus")).strip()
    if not SID_RE.match(sid) or not status:
        raise HTTPException(status_code=422, detail="MessageSid and MessageStatus are required")
    error_code = params.first("ErrorCode").strip() or None

    def work() -> bool:
        with session_scope(container.session_factory) as s:
            return (
                record_delivery(
                    s,
                    provider_sid=sid,
                    status=status,
                    error=describe_error(error_code, params.first("ErrorMessage") or "no reason given"),
                    opted_out=is_opt_out(error_code),
                )
                is not None
            )

    try:
        found = await asyncio.to_thread(work)
    except DB_DOWN:
        return JSONResponse({"detail": "database unavailable"}, status_code=503)
    if not found:
        log.info("delivery receipt for an unknown message %s (%s)", sid, status)
    return Response(status_code=204)


# ---------------------------------------------------------------------- workers
def dispatcher_for(container: Container) -> Dispatcher:
    return Dispatcher(
        session_factory=container.session_factory,
        sender=container.sms_sender,
        status_callback_url=webhook_url(container.settings, STATUS_PATH),
        policy=container.sms_dispatch_policy,
        clock=container.clock,
    )


async def sms_dispatch_worker(container: Container) -> None:
    """Send what is due in the outbox, every ~1 s (at once when a turn has just queued replies)."""
    rt = runtime(container)
    dispatcher = dispatcher_for(container)
    interval = container.sms_dispatch_interval_s
    try:
        while True:
            rt.wakeup.clear()
            stats = None
            try:
                stats = await dispatcher.run_once_async()
            except DB_DOWN:
                log.warning("outbox dispatcher: database unavailable; retrying")
            except Exception:
                log.exception("outbox dispatcher pass failed; retrying")
            if stats is not None and stats.claimed >= dispatcher.policy.batch_size:
                continue  # more waiting
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(rt.wakeup.wait(), timeout=interval)
    except asyncio.CancelledError:
        # shutting down: let running turns finish briefly, then send what they queued
        with contextlib.suppress(Exception):
            await drain(container, timeout=5.0)
            await asyncio.wait_for(dispatcher.run_once_async(), timeout=5.0)
        rt.close()
        raise


async def sms_recovery_worker(container: Container) -> None:
    """At start-up and then every few seconds: answer inbound SMS that were stored but never answered."""
    interval = container.sms_recovery_interval_s
    channel = container.sms_channel
    while True:
        try:
            pending = await asyncio.to_thread(channel.unfinished)
            started = sum(schedule(container, mid, conv, allow_stale=stale) for mid, conv, stale in pending)
            if started:
                log.warning("resuming %d unanswered inbound SMS", started)
        except DB_DOWN:
            log.warning("SMS recovery sweep: database unavailable; retrying")
        except Exception:
            log.exception("SMS recovery sweep failed; retrying")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------- simulator (development/test only)
# Every simulator route needs a signed-in staff member: it lists patients' names and phones and
# shows any number's SMS history (issue 16, item 3).
def dev_only(container: ContainerDep) -> None:
    """Route dependency, resolved before the sign-in check: outside development the simulator does not exist."""
    if not container.settings.is_development:
        raise HTTPException(status_code=404, detail="Not Found")


class SimulatedSms(BaseModel):
    phone: str = Field(..., max_length=32)
    text: str = Field("", max_length=5000)
    media_urls: list[str] = Field(default_factory=list, max_items=MAX_MEDIA)
    message_sid: str | None = Field(None, max_length=64)  # resend a sid to see de-duplication


@router.get("/simulator", include_in_schema=False, dependencies=[Depends(dev_only)])
def simulator_page(container: ContainerDep, staff: CurrentStaff) -> HTMLResponse:
    return HTMLResponse(SIMULATOR_HTML.read_text(encoding="utf-8"))


@router.get("/simulator/api/phones", include_in_schema=False, dependencies=[Depends(dev_only)])
def simulator_phones(container: ContainerDep, staff: CurrentStaff, session: SessionDep) -> dict:
    # the request's own session: a second one would wait behind its SQLite write lock
    s = session
    clinic = get_clinic(s)
    patients = s.execute(select(Patient).where(Patient.phone.is_not(None)).order_by(Patient.created_at).limit(50)).scalars()
    return {
        "clinic": {"name": clinic.name, "phone": clinic.phone},
        "twilio": "twilio" if container.settings.twilio_enabled else "local outbox",
        "patients": [{"name": p.first_name, "phone": p.phone, "opted_out": bool(p.opted_out)} for p in patients],
    }


def twilio_params(
    container: Container, *, phone: str, text: str, media_urls: list[str], message_sid: str | None = None
) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS."""
    settings = container.settings
    sid = message_sid or "SM" + uuid.uuid4().hex
    params = {
        "ToCountry": "US",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media_urls)),
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "US",
        "To": settings.twilio_from_number or "+15005550006",
        "ToZip": "",
        "NumSegments": str(segment_count(text)),
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": phone,
        "ApiVersion": "2010-04-01",
    }
    if settings.twilio_messaging_service_sid:
        params["MessagingServiceSid"] = settings.twilio_messaging_service_sid
    for i, url in enumerate(media_urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = "image/jpeg"
    return params


@router.post("/simulator/api/send", include_in_schema=False, dependencies=[Depends(dev_only)])
async def simulator_send(
    body: SimulatedSms, request: Request, container: ContainerDep, staff: CurrentStaff, session: SessionDep
) -> dict:
    """Sign and post an inbound SMS to the webhook exactly as Twilio does."""
    # end the sign-in check's transaction first: the webhook this posts to must write (SQLite has one writer)
    session.commit()
    try:
        phone = normalize_phone(body.phone)
    except PatientError as exc:
        raise HTTPException(status_code=422, detail=str(exc))
    if body.message_sid is not None and not SID_RE.match(body.message_sid):
        raise HTTPException(status_code=422, detail="message_sid must be letters and digits")
    token = webhook_auth_token(container.settings)
    params = twilio_params(container, phone=phone, text=body.text, media_urls=body.media_urls, message_sid=body.message_sid)
    headers = {
        "X-Twilio-Signature": sign(token, webhook_url(container.settings, SMS_PATH), params),
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
    }
    server = request.scope.get("server")
    if server and server[0] not in ("testserver", None):  # real HTTP to this very server
        host = f"[{server[0]}]" if ":" in server[0] else server[0]
        client = httpx.AsyncClient(base_url=f"http://{host}:{server[1]}", timeout=15.0, trust_env=False)
    else:  # in-process test client: through the app itself
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://testserver", timeout=15.0)
    async with client:
        resp = await client.post(SMS_PATH, data=params, headers=headers)
    return {"message_sid": params["MessageSid"], "status_code": resp.status_code, "twiml": resp.text}


@router.get("/simulator/api/messages", include_in_schema=False, dependencies=[Depends(dev_only)])
def simulator_messages(
    container: ContainerDep, staff: CurrentStaff, session: SessionDep, phone: str = Query(..., max_length=32)
) -> dict:
    """What this phone sent and what the outbox sent (or would send) to it."""
    try:
        phone = normalize_phone(phone)
    except PatientError as exc:
        raise HTTPException(status_code=422, detail=str(exc))
    s = session
    conv_ids = select(Conversation.id).where(Conversation.channel == SMS_CHANNEL, Conversation.phone == phone)
    inbound = s.execute(select(Message).where(Message.conversation_id.in_(conv_ids), Message.direction == "in")).scalars()
    outbound = s.execute(select(OutboxMessage).where(OutboxMessage.to == phone)).scalars()
    items: list[dict[str, Any]] = [
        {"direction": "in", "text": m.text, "status": m.status, "at": m.created_at.isoformat(), "media": m.media_urls or []}
        for m in inbound
    ]
    items += [
        {
            "direction": "out",
            "text": o.body,
            "status": o.status,
            "purpose": o.purpose,
            "error": o.last_error,
            "at": o.created_at.isoformat(),
        }
        for o in outbound
    ]
    items.sort(key=lambda i: i["at"])
    return {"phone": phone, "opted_out": is_opted_out(s, phone), "messages": items}
