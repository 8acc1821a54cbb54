"""The data model. Timestamps are UTC; ids are opaque hex strings."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import relationship

from core.clock import DEFAULT_TIMEZONE
from core.db import STAMP_CREATE, STAMP_NOW, STAMP_UPDATE, Base, new_id

TZDateTime = DateTime(timezone=True)


class Clinic(Base):
    """The clinic's own settings (one row)."""

    __tablename__ = "clinic"
    id = Column(Integer, primary_key=True, default=1)
    name = Column(String(200), nullable=False, default="Our clinic")
    phone = Column(String(32), nullable=False, default="")
    booking_url = Column(String(500), nullable=False, default="")
    hours = Column(String(200), nullable=False, default="")
    address = Column(String(300), nullable=False, default="")
    timezone = Column(String(64), nullable=False, default=DEFAULT_TIMEZONE)
    oncall_name = Column(String(200), nullable=False, default="")
    oncall_phone = Column(String(32), nullable=False, default="")
    # paging that does not give up (core/paging.py): repeat until acknowledged, then the backup too
    oncall_backup_name = Column(String(200), nullable=False, default="")
    oncall_backup_phone = Column(String(32), nullable=False, default="")
    # during business hours (days 0=Monday..6, hours [start, end) on the clinic's calendar) a
    # business-hours contact, when set, is paged instead of the on-call phone (core/paging.py)
    day_oncall_name = Column(String(200), nullable=False, default="")
    day_oncall_phone = Column(String(32), nullable=False, default="")
    business_days = Column(String(20), nullable=False, default="0,1,2,3,4")
    business_start_hour = Column(Integer, nullable=False, default=9)
    business_end_hour = Column(Integer, nullable=False, default=18)
    page_repeat_minutes = Column(Integer, nullable=False, default=5)
    page_backup_after = Column(Integer, nullable=False, default=2)  # unanswered pages before the backup is paged
    widget_color = Column(String(16), nullable=False, default="#0f5f73")
    widget_greeting = Column(String(300), nullable=False, default="")
    checkin_hour_start = Column(Integer, nullable=False, default=9)
    checkin_hour_end = Column(Integer, nullable=False, default=19)
    updated_at = Column(TZDateTime, nullable=False, info=STAMP_UPDATE)


class Patient(Base):
    __tablename__ = "patients"
    id = Column(String(32), primary_key=True, default=new_id)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False, default="")
    phone = Column(String(20), nullable=True, unique=True)
    chat_token = Column(String(64), nullable=False, unique=True)
    chat_token_issued_at = Column(TZDateTime, nullable=True)  # the link stops working CHAT_LINK_DAYS later
    opted_out = Column(Boolean, nullable=False, default=False)
    opted_out_at = Column(TZDateTime, nullable=True)
    checkins_paused = Column(Boolean, nullable=False, default=False)
    # the language the patient prefers ("en" | "es"), set by staff or the import; None: not known
    language = Column(String(8), nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)

    treatments = relationship("Treatment", back_populates="patient", order_by="Treatment.performed_on")


class Treatment(Base):
    __tablename__ = "treatments"
    id = Column(String(32), primary_key=True, default=new_id)
    patient_id = Column(String(32), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True)
    procedure = Column(String(64), nullable=False, default="microneedling")
    area = Column(String(64), nullable=False, default="face")
    performed_on = Column(Date, nullable=False)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)

    patient = relationship("Patient", back_populates="treatments")


class Conversation(Base):
    __tablename__ = "conversations"
    id = Column(String(32), primary_key=True, default=new_id)
    channel = Column(String(16), nullable=False)  # "sms" | "web"
    patient_id = Column(String(32), ForeignKey("patients.id", ondelete="SET NULL"), nullable=True, index=True)
    phone = Column(String(20), nullable=True, index=True)  # SMS sender, also for unknown numbers
    # web chat: the session id the widget holds (secret, unguessable)
    session_key = Column(String(64), nullable=True, unique=True)
    staff_takeover = Column(Boolean, nullable=False, default=False)
    takeover_by = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    stated_treatment_on = Column(Date, nullable=True)  # a date the patient told us (unknown patients)
    awaiting = Column(String(64), nullable=True)  # e.g. "treatment_date:makeup" while we wait for an answer
    callback_phone = Column(String(20), nullable=True)  # E.164 a web chat patient gave us to be called back on
    # web chat: a keyed hash of the address that opened the session (never the address itself), for
    # the per-client limits of api/limits.py
    client_key = Column(String(32), nullable=True, index=True)
    pending_message_id = Column(String(32), nullable=True)  # the symptom message waiting for the date
    last_topic = Column(String(64), nullable=True)
    # the language the conversation is answered in (core/language.py); None until it is known
    language = Column(String(8), nullable=True)
    clarify_count = Column(Integer, nullable=False, default=0)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    last_message_at = Column(TZDateTime, nullable=False, info=STAMP_NOW)

    patient = relationship("Patient")
    messages = relationship("Message", back_populates="conversation", order_by="Message.created_at")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_message_channel_external"),)
    id = Column(String(32), primary_key=True, default=new_id)
    conversation_id = Column(String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    direction = Column(String(8), nullable=False)  # "in" | "out"
    author = Column(String(16), nullable=False)  # patient | bot | staff | system
    staff_id = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    channel = Column(String(16), nullable=False)
    text = Column(Text, nullable=False, default="")
    buttons = Column(JSON, nullable=True)
    media_urls = Column(JSON, nullable=True)
    external_id = Column(String(64), nullable=True)  # Twilio MessageSid
    # outbound: the patient message this reply answers (a retried or re-routed turn finds exactly its own)
    reply_to_id = Column(
        String(32), ForeignKey("messages.id", ondelete="SET NULL", name="fk_messages_reply_to_id"), nullable=True, index=True
    )
    # inbound: received -> processing -> answered | failed; outbound: sent
    status = Column(String(16), nullable=False, default="received")
    topic = Column(String(64), nullable=True)
    intent = Column(String(64), nullable=True)
    confidence = Column(String(16), nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE, index=True)
    processed_at = Column(TZDateTime, nullable=True)

    conversation = relationship("Conversation", back_populates="messages")


class StaffUser(Base):
    __tablename__ = "staff_users"
    id = Column(String(32), primary_key=True, default=new_id)
    email = Column(String(200), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    role = Column(String(16), nullable=False)  # admin | clinician | frontdesk
    password_hash = Column(String(300), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    last_login_at = Column(TZDateTime, nullable=True)
    # second factor (RFC 6238 TOTP): the base32 secret; in use once ``totp_enabled_at`` is set
    # (before that it is an enrolment waiting for its first code). ``totp_last_step`` is the last
    # 30-second step whose code was accepted: a code is accepted once (no replay).
    totp_secret = Column(String(64), nullable=True)
    totp_enabled_at = Column(TZDateTime, nullable=True)
    totp_last_step = Column(Integer, nullable=True)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)


class LoginFailure(Base):
    """One failed sign-in step (password or second factor), counted by the sign-in throttle.

    Kept in the database so every API replica counts the same failures; rows older than a day
    are deleted as new ones come in. ``account_key`` is a hash of the email typed (known or not,
    so the throttle behaves the same for accounts that do not exist); ``device`` is the nonce of
    a device cookie when the browser presented one for that account."""

    __tablename__ = "login_failures"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(TZDateTime, nullable=False, index=True)
    client_ip = Column(String(64), nullable=False, index=True)
    account_key = Column(String(64), nullable=False, index=True)
    device = Column(String(64), nullable=True, index=True)
    kind = Column(String(16), nullable=False, default="password")  # password | totp


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    id = Column(String(64), primary_key=True)  # sha256 of the cookie value
    staff_id = Column(String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    last_seen_at = Column(TZDateTime, nullable=False, info=STAMP_NOW)
    ended_at = Column(TZDateTime, nullable=True)


class Escalation(Base):
    __tablename__ = "escalations"
    id = Column(String(32), primary_key=True, default=new_id)
    conversation_id = Column(String(32), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    patient_id = Column(String(32), ForeignKey("patients.id", ondelete="SET NULL"), nullable=True, index=True)
    level = Column(String(16), nullable=False)  # emergency | urgent | routine
    status = Column(String(16), nullable=False, default="open", index=True)  # open | acknowledged | resolved
    reason = Column(Text, nullable=False, default="")
    findings = Column(JSON, nullable=True)  # [{"code", "level", "matched", "rule"}]
    recovery_day = Column(Integer, nullable=True)
    trigger_message_id = Column(String(32), ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    assignee_id = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    updated_at = Column(TZDateTime, nullable=False, info=STAMP_UPDATE)
    acknowledged_at = Column(TZDateTime, nullable=True)
    acknowledged_by = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    resolved_at = Column(TZDateTime, nullable=True)
    resolved_by = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    resolution_note = Column(Text, nullable=True)
    # on-call paging (core/paging.py): how many pages went out, and when the next repeat is due
    page_count = Column(Integer, nullable=False, default=0)
    last_paged_at = Column(TZDateTime, nullable=True)
    next_page_at = Column(TZDateTime, nullable=True, index=True)

    conversation = relationship("Conversation")
    patient = relationship("Patient")
    notes = relationship("EscalationNote", back_populates="escalation", order_by="EscalationNote.created_at")
    events = relationship("EscalationEvent", back_populates="escalation", order_by="EscalationEvent.created_at")


class EscalationEvent(Base):
    """Each message or finding that joined an escalation (the reasons, over time)."""

    __tablename__ = "escalation_events"
    id = Column(String(32), primary_key=True, default=new_id)
    escalation_id = Column(String(32), ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False, index=True)
    message_id = Column(String(32), ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    level = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False, default="")
    findings = Column(JSON, nullable=True)
    recovery_day = Column(Integer, nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)

    escalation = relationship("Escalation", back_populates="events")


class EscalationNote(Base):
    """A private staff note on an escalation (never sent to the patient)."""

    __tablename__ = "escalation_notes"
    id = Column(String(32), primary_key=True, default=new_id)
    escalation_id = Column(String(32), ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False, index=True)
    staff_id = Column(String(32), ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    text = Column(Text, nullable=False)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)

    escalation = relationship("Escalation", back_populates="notes")


class OutboxMessage(Base):
    """A message to send (SMS through Twilio, or to the on-call contact)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id = Column(String(32), primary_key=True, default=new_id)
    channel = Column(String(16), nullable=False, default="sms")
    to = Column(String(32), nullable=False)
    body = Column(Text, nullable=False)
    purpose = Column(String(24), nullable=False)  # reply | staff_reply | oncall_alert | checkin | system
    conversation_id = Column(String(32), ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True, index=True)
    message_id = Column(String(32), ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    escalation_id = Column(String(32), ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True, index=True)
    # pending -> sending -> sent -> delivered | undelivered | failed ; or suppressed / dead
    status = Column(String(16), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(TZDateTime, nullable=False, info=STAMP_NOW)
    last_error = Column(Text, nullable=True)
    provider_sid = Column(String(64), nullable=True, index=True)
    # set when a dispatcher died mid-send (the row was released after its lease): when that send
    # began. Before sending again the dispatcher asks the provider whether it went out after all.
    interrupted_at = Column(TZDateTime, nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    updated_at = Column(TZDateTime, nullable=False, info=STAMP_UPDATE)


class AuditLog(Base):
    """Append-only: who saw or did what, when. Never message text."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(TZDateTime, nullable=False, info=STAMP_CREATE, index=True)
    actor_id = Column(String(32), nullable=True)
    actor_label = Column(String(200), nullable=False)
    action = Column(String(64), nullable=False)
    object_type = Column(String(32), nullable=False, default="")
    object_id = Column(String(64), nullable=False, default="")
    detail = Column(String(500), nullable=False, default="")
    # tamper evidence: each entry hashes the previous one's hash and its own fields (core/audit.py)
    prev_hash = Column(String(64), nullable=False, default="")
    entry_hash = Column(String(64), nullable=False, default="")


class CheckinStep(Base):
    """One step of a procedure's check-in plan (editable by an admin)."""

    __tablename__ = "checkin_steps"
    __table_args__ = (UniqueConstraint("procedure", "key", name="uq_checkin_step"),)
    id = Column(String(32), primary_key=True, default=new_id)
    procedure = Column(String(64), nullable=False, default="microneedling")
    key = Column(String(32), nullable=False)  # day1, day3, day7, week4
    day = Column(Integer, nullable=False)
    body = Column(Text, nullable=False)
    body_es = Column(Text, nullable=True)  # sent to patients answered in Spanish; None: they get ``body``
    active = Column(Boolean, nullable=False, default=True)


class CheckinSend(Base):
    """A check-in sent (or skipped) for one treatment: unique per step, so never twice."""

    __tablename__ = "checkin_sends"
    __table_args__ = (UniqueConstraint("treatment_id", "step_key", name="uq_checkin_send"),)
    id = Column(String(32), primary_key=True, default=new_id)
    treatment_id = Column(String(32), ForeignKey("treatments.id", ondelete="CASCADE"), nullable=False)
    patient_id = Column(String(32), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True)
    step_key = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)  # queued | skipped
    skip_reason = Column(String(64), nullable=True)
    outbox_id = Column(String(32), ForeignKey("outbox.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)


class SmsOptOut(Base):
    """SMS consent per phone number (STOP / START), also for numbers that are not patients.

    Patient.opted_out mirrors it for known patients; core.sms.is_opted_out reads both.
    """

    __tablename__ = "sms_opt_outs"
    phone = Column(String(32), primary_key=True)
    opted_out = Column(Boolean, nullable=False, default=True)
    keyword = Column(String(32), nullable=True)  # the word the patient sent (STOP, START, ...)
    source = Column(String(24), nullable=False, default="keyword")  # keyword | twilio_opt_out | provider_error | staff
    updated_at = Column(TZDateTime, nullable=False, info=STAMP_UPDATE)


class MessageMedia(Base):
    """A photo a patient sent (MMS), fetched from the provider and kept here so every API replica
    can show it to staff. Only images, at most core.media.MAX_BYTES each."""

    __tablename__ = "message_media"
    id = Column(String(32), primary_key=True, default=new_id)
    message_id = Column(String(32), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True)
    source_url = Column(String(1000), nullable=False)
    status = Column(String(16), nullable=False, default="pending", index=True)  # pending | stored | failed
    content_type = Column(String(64), nullable=True)
    size = Column(Integer, nullable=True)
    data = Column(LargeBinary, nullable=True)
    error = Column(String(300), nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    fetched_at = Column(TZDateTime, nullable=True)
    # a replica fetching it holds it until then (core.media.pending): one download, whichever replica
    claimed_until = Column(TZDateTime, nullable=True)


class ConversationRead(Base):
    """How far one staff member has read one conversation: the inbox's "new message" marker is
    a patient message after ``read_at`` (each person has their own)."""

    __tablename__ = "conversation_reads"
    staff_id = Column(String(32), ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    conversation_id = Column(String(32), ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    read_at = Column(TZDateTime, nullable=False)


class CannedReply(Base):
    """A reply staff can insert and edit before sending (admin-managed), in one language."""

    __tablename__ = "canned_replies"
    id = Column(String(32), primary_key=True, default=new_id)
    title = Column(String(100), nullable=False)
    language = Column(String(8), nullable=False, default="en")  # en | es
    body = Column(Text, nullable=False)
    created_at = Column(TZDateTime, nullable=False, info=STAMP_CREATE)
    updated_at = Column(TZDateTime, nullable=False, info=STAMP_UPDATE)


# ------------------------------------------------------------ the audit log is append-only in the database
# Not only in the ORM: plain SQL cannot change or delete an entry either. Installed with the table
# (create_all, tests) and by migration 0002 (alembic), from these same statements.
AUDIT_APPEND_ONLY_SQL: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
}


def install_audit_guard(connection: object) -> None:
    """Create the append-only triggers on this database (idempotent)."""
    for statement in AUDIT_APPEND_ONLY_SQL.get(connection.dialect.name, ()):  # type: ignore[attr-defined]
        connection.exec_driver_sql(statement)  # type: ignore[attr-defined]


@event.listens_for(AuditLog.__table__, "after_create")
def _audit_guard_after_create(target, connection, **kw) -> None:
    install_audit_guard(connection)
