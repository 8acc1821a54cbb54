"""One settings object, read from environment variables.

Outside development (``AFTERCARE_ENV`` other than ``development``/``test``) it refuses
to start with a missing or default secret.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.clock import DEFAULT_TIMEZONE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
INSECURE_SECRET = "dev-insecure-secret-change-me"


class SettingsError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


def _int(source: Mapping[str, str], name: str, default: int) -> int:
    raw = source.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _float(source: Mapping[str, str], name: str, default: float) -> float:
    raw = source.get(name, "").strip()
    return float(raw) if raw else default


DEFAULT_CHAT_SESSIONS_PER_HOUR = 30
DEFAULT_CHAT_CLIENT_MESSAGES_PER_MINUTE = 60


@dataclass
class Settings:
    env: str = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    port: int = 8000
    host: str = "127.0.0.1"
    api_token: str = ""
    api_token_generated: bool = False
    # bearer token Prometheus sends for GET /metrics (api/routes/metrics.py); unset: /metrics is open
    # in development and absent (404) elsewhere
    metrics_token: str = ""
    secret_key: str = INSECURE_SECRET
    public_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = ""  # tests point the real twilio client at a local fake REST endpoint
    rasa_url: str = ""
    action_url: str = ""
    rasa_timeout_s: float = 8.0
    rasa_token: str = ""  # the API -> Rasa channel token (the supervisor generates one per run)
    allowed_origins: list[str] = field(default_factory=list)
    clinic_timezone: str = DEFAULT_TIMEZONE  # seeds the clinic row at first install only
    log_level: str = "INFO"
    log_format: str = ""  # json | text; empty: text in development, json elsewhere (api/logs.py)
    triage_model: bool = True  # the learned red-flag model beside the lexicon (AFTERCARE_TRIAGE_MODEL=off: lexicon alone)
    triage_threads: int = 2  # CPU threads of the model's sentence encoder
    # reverse proxies whose X-Forwarded-For names the real client (addresses or networks); the
    # per-client limits and the sign-in throttle read the client from it only behind these
    trusted_proxies: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])
    # web chat limits per client address (api/limits.py): new sessions an hour, and messages a
    # minute over all of its sessions. Raise them where many patients share one address (a
    # clinic's waiting-room Wi-Fi behind one NAT); a red flag always goes through either way.
    chat_sessions_per_hour: int = DEFAULT_CHAT_SESSIONS_PER_HOUR
    chat_client_messages_per_minute: int = DEFAULT_CHAT_CLIENT_MESSAGES_PER_MINUTE

    @property
    def is_development(self) -> bool:
        return self.env in {"development", "test"}

    @property
    def twilio_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid and self.twilio_auth_token and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )

    @property
    def secure_cookies(self) -> bool:
        return not self.is_development

    @property
    def effective_log_format(self) -> str:
        """One JSON object per line for a log pipeline outside development, text for a terminal in it."""
        return self.log_format or ("text" if self.is_development else "json")

    def validate(self) -> None:
        """Refuse unsafe defaults outside development, and development mode where it would be unsafe."""
        if self.log_format and self.log_format not in ("json", "text"):
            raise ValueError(f"AFTERCARE_LOG_FORMAT must be json or text, not {self.log_format!r}")
        if self.env == "development":
            problems = []
            if self.twilio_enabled:
                problems.append("real Twilio credentials are set (patients' texts would reach a development server)")
            if not _loopback(self.host):
                problems.append(f"AFTERCARE_HOST={self.host} is not a loopback address")
            if problems:
                raise SettingsError(
                    "Refusing to start in development mode: " + "; ".join(problems) + ". Set AFTERCARE_ENV=production "
                    "(with AFTERCARE_API_TOKEN, AFTERCARE_SECRET_KEY and an https AFTERCARE_PUBLIC_URL)."
                )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"AFTERCARE_TRUSTED_PROXIES: {proxy!r} is not an address or network (a client could forge "
                    "X-Forwarded-For if every sender were trusted)"
                ) from None
        for name in ("chat_sessions_per_hour", "chat_client_messages_per_minute"):
            if getattr(self, name) < 1:
                raise SettingsError(f"AFTERCARE_{name.upper()} must be a whole number of at least 1")
        if self.is_development:
            return
        problems = []
        if not self.api_token or self.api_token_generated:
            problems.append("AFTERCARE_API_TOKEN must be set")
        elif len(self.api_token) < 24:
            problems.append("AFTERCARE_API_TOKEN must be at least 24 characters")
        if self.metrics_token and len(self.metrics_token) < 24:
            problems.append("AFTERCARE_METRICS_TOKEN must be at least 24 characters")
        elif self.metrics_token and self.metrics_token == self.api_token:
            problems.append("AFTERCARE_METRICS_TOKEN must differ from AFTERCARE_API_TOKEN (the scraper must not hold it)")
        if not self.secret_key or self.secret_key == INSECURE_SECRET or len(self.secret_key) < 32:
            problems.append("AFTERCARE_SECRET_KEY must be set to a random value of 32+ characters")
        if not self.public_url.startswith("https://"):
            problems.append("AFTERCARE_PUBLIC_URL must be the https:// URL Twilio calls")
        if self.twilio_account_sid and not self.twilio_auth_token:
            problems.append("TWILIO_AUTH_TOKEN is required with TWILIO_ACCOUNT_SID")
        if problems:
            raise SettingsError("Refusing to start outside development: " + "; ".join(problems))


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def port_plan(port: int) -> tuple[int, int]:
    """Internal ports (rasa, action server) derived from the public port.

    Spaced two apart per public port so instances on neighbouring public ports
    (8000 and 8001) never collide, and always in 20000-31999, below Linux's ephemeral range
    (32768-60999): a port there can be taken at any moment by an outgoing connection (a pooled
    PostgreSQL connection held it for good, and Rasa could not start: seen with make bench-cluster).
    """
    base = 20000 + (port % 6000) * 2
    return base, base + 1


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build the settings from ``environ`` (defaults to ``os.environ``).

    Reads the mapping; never writes the process environment (it once swapped ``os.environ`` for the
    duration: a thread reading the environment meanwhile, such as libfaketime's clock, crashed the
    process with a segmentation fault)."""
    source: Mapping[str, str] = os.environ if environ is None else environ
    env = source.get("AFTERCARE_ENV", "development").strip() or "development"
    data_dir = Path(source.get("AFTERCARE_DATA_DIR", "") or DEFAULT_DATA_DIR)
    port = _int(source, "AFTERCARE_PORT", 8000)
    rasa_port, action_port = port_plan(port)
    token = source.get("AFTERCARE_API_TOKEN", "").strip()
    generated = False
    if not token:
        token = secrets.token_urlsafe(24)
        generated = True
    origins = [o.strip().rstrip("/") for o in source.get("AFTERCARE_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    settings = Settings(
        env=env,
        data_dir=data_dir,
        database_url=source.get("AFTERCARE_DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'aftercare.db'}",
        port=port,
        host=source.get("AFTERCARE_HOST", "127.0.0.1"),
        api_token=token,
        api_token_generated=generated,
        metrics_token=source.get("AFTERCARE_METRICS_TOKEN", "").strip(),
        secret_key=source.get("AFTERCARE_SECRET_KEY", "").strip() or INSECURE_SECRET,
        public_url=source.get("AFTERCARE_PUBLIC_URL", "").strip().rstrip("/") or f"http://127.0.0.1:{port}",
        twilio_account_sid=source.get("TWILIO_ACCOUNT_SID", "").strip(),
        twilio_auth_token=source.get("TWILIO_AUTH_TOKEN", "").strip(),
        twilio_from_number=source.get("TWILIO_FROM_NUMBER", "").strip(),
        twilio_messaging_service_sid=source.get("TWILIO_MESSAGING_SERVICE_SID", "").strip(),
        twilio_api_base=source.get("AFTERCARE_TWILIO_API_BASE", "").strip(),
        rasa_url=source.get("AFTERCARE_RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",
        action_url=source.get("AFTERCARE_ACTION_URL", "").strip() or f"http://127.0.0.1:{action_port}/webhook",
        rasa_timeout_s=_float(source, "AFTERCARE_RASA_TIMEOUT", 8.0),
        rasa_token=source.get("AFTERCARE_RASA_TOKEN", "").strip(),
        allowed_origins=origins,
        clinic_timezone=source.get("AFTERCARE_CLINIC_TIMEZONE", DEFAULT_TIMEZONE),
        log_level=source.get("AFTERCARE_LOG_LEVEL", "INFO").upper(),
        log_format=source.get("AFTERCARE_LOG_FORMAT", "").strip().lower(),
        triage_model=source.get("AFTERCARE_TRIAGE_MODEL", "on").strip().lower() not in {"off", "0", "false", "no"},
        triage_threads=int(_float(source, "AFTERCARE_TRIAGE_THREADS", 2)),
        trusted_proxies=[p.strip() for p in source.get("AFTERCARE_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if p.strip()],
        chat_sessions_per_hour=_int(source, "AFTERCARE_CHAT_SESSIONS_PER_HOUR", DEFAULT_CHAT_SESSIONS_PER_HOUR),
        chat_client_messages_per_minute=_int(
            source, "AFTERCARE_CHAT_CLIENT_MESSAGES_PER_MINUTE", DEFAULT_CHAT_CLIENT_MESSAGES_PER_MINUTE
        ),
    )
    settings.validate()
    return settings
