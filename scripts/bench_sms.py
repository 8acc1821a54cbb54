"""Benchmark the Twilio SMS webhook over real HTTP, with the assistant slow or down.

    python scripts/bench_sms.py                      # both modes, 20 senders x 10 messages each
    python scripts/bench_sms.py --mode slow --senders 20 --messages 10
    python scripts/bench_sms.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    python scripts/bench_sms.py --url http://127.0.0.1:8000   # a running `make run` (its settings from the environment)

Local modes start the app in a child process (uvicorn, real HTTP, the workers running) with:
  slow  - an assistant that answers after 2 s (a stand-in: the only place a fake is used);
  down  - the real Rasa HTTP client pointed at a closed port (connection refused).
Every request is signed like Twilio (twilio's RequestValidator); one message in five is posted
twice at once (a Twilio retry). Prints webhook latency p50/p95/p99, throughput, reply latency,
and checks that every MessageSid was stored once and answered exactly once (outbox rows per inbound).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "can I wear makeup tomorrow?",
    "when can I work out again?",
    "is it ok to wash my face tonight",
    "what sunscreen should I use",
    "can I use retinol this week?",
    "my skin is a bit dry and flaky",
    "Ça pique un peu 😬 is that normal?",
    "how long until I see results",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# ---------------------------------------------------------------------- the server (child process)
class SlowAssistant:
    """Answers after ``delay_s`` (benchmark stand-in for a slow Rasa)."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def respond(self, *, conversation_id: str, text: str, metadata: dict):
        from core.ports import AssistantReply, AssistantTurn

        await asyncio.sleep(self.delay_s)
        return AssistantTurn(
            [AssistantReply("Thanks for your question. Here is the aftercare answer for today.")], intent="faq", confidence=0.9
        )

    async def ready(self) -> bool:
        return True


def serve(mode: str) -> None:
    import uvicorn

    from api.app import create_app
    from api.rasa_client import RasaAssistant
    from core.settings import load_settings

    settings = load_settings()
    if mode == "slow":
        assistant = SlowAssistant(2.0)
    else:  # down: the real client, nothing listening
        dead = free_port()
        assistant = RasaAssistant(
            rasa_url=f"http://127.0.0.1:{dead}", action_url=f"http://127.0.0.1:{dead}/webhook", timeout_s=2.0
        )
    app = create_app(settings, assistant=assistant)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", ws="none", timeout_graceful_shutdown=5)


# ---------------------------------------------------------------------- load
def run_load(base_url: str, public_url: str, token: str, senders: int, per_sender: int, dup_every: int = 5) -> dict:
    import httpx
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sids: dict[str, str] = {}  # sid -> phone
    lock = threading.Lock()
    run_id = uuid.uuid4().hex[:6]

    def post(client, params):
        sig = validator.compute_signature(public_url + "/webhooks/twilio/sms", params)
        t0 = time.perf_counter()
        r = client.post("/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": sig})
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    def sender(i: int) -> None:
        phone = f"+1201555{1500 + i:04d}"
        with (
            httpx.Client(base_url=base_url, timeout=30.0, trust_env=False) as c,
            httpx.Client(base_url=base_url, timeout=30.0, trust_env=False) as c2,
        ):
            for n in range(per_sender):
                sid = f"SMbench{run_id}{i:03d}{n:04d}" + uuid.uuid4().hex[:8]
                params = {
                    "MessageSid": sid,
                    "SmsSid": sid,
                    "AccountSid": "AC" + "0" * 32,
                    "From": phone,
                    "To": "+15005550006",
                    "Body": QUESTIONS[(i + n) % len(QUESTIONS)],
                    "NumMedia": "0",
                }
                with lock:
                    sids[sid] = phone
                if dup_every and (i * per_sender + n) % dup_every == 0:
                    # a Twilio retry arriving while the first copy is still in flight
                    t = threading.Thread(target=post, args=(c2, params))
                    t.start()
                    post(c, params)
                    t.join()
                else:
                    post(c, params)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(sender, range(senders)))
    wall = time.perf_counter() - t0
    return {"latencies": latencies, "statuses": statuses, "sids": sids, "wall": wall}


def verify(database_url: str, sids: dict[str, str], timeout: float) -> dict:
    """Wait until every posted message is answered and its replies have left the outbox; count."""
    from sqlalchemy import func, select

    from core.clock import SystemClock
    from core.db import make_engine, make_session_factory, session_scope
    from core.models import Conversation, Message, OutboxMessage

    engine = make_engine(database_url)
    factory = make_session_factory(engine, SystemClock())
    phones = sorted(set(sids.values()))
    deadline = time.monotonic() + timeout
    try:
        while True:
            with session_scope(factory) as s:
                inbound = s.execute(
                    select(Message.external_id, Message.status, Message.created_at, Message.processed_at).where(
                        Message.channel == "sms", Message.external_id.in_(list(sids))
                    )
                ).all()
                out = s.execute(
                    select(OutboxMessage.to, OutboxMessage.status, OutboxMessage.created_at, OutboxMessage.updated_at).where(
                        OutboxMessage.to.in_(phones)
                    )
                ).all()
                bot = dict(
                    s.execute(
                        select(Conversation.phone, func.count(Message.id))
                        .join(Message, Message.conversation_id == Conversation.id)
                        .where(Conversation.phone.in_(phones), Message.direction == "out")
                        .group_by(Conversation.phone)
                    ).all()
                )
            answered = sum(1 for r in inbound if r.status == "answered")
            settled = all(o.status not in ("pending", "sending") for o in out)
            if (answered == len(sids) and settled) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    per_phone_in: dict[str, int] = {}
    for sid in {r.external_id for r in inbound}:
        per_phone_in[sids[sid]] = per_phone_in.get(sids[sid], 0) + 1
    per_phone_out: dict[str, int] = {}
    for o in out:
        per_phone_out[o.to] = per_phone_out.get(o.to, 0) + 1
    first_out = min((o.created_at for o in out), default=None)
    last_out = max((o.updated_at for o in out), default=None)
    turn = [(r.processed_at - r.created_at).total_seconds() for r in inbound if r.processed_at is not None]
    return {
        "stored": len(inbound),
        "distinct": len({r.external_id for r in inbound}),
        "answered": answered,
        "outbox": len(out),
        "delivered": sum(1 for o in out if o.status in ("delivered", "sent")),
        "bot_messages": sum(bot.values()),
        "mismatched_phones": sorted(p for p in phones if per_phone_in.get(p, 0) != per_phone_out.get(p, 0)),
        "turn_latencies": turn,
        "drain_s": (last_out - first_out).total_seconds() if first_out and last_out else 0.0,
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), for CPU per message."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def report(title: str, load: dict, check: dict | None, senders: int, cpu_s: float | None = None) -> bool:
    lat = [x * 1000 for x in load["latencies"]]
    n = len(lat)
    print(f"\n== {title}")
    print(
        f"requests: {n} ({len(load['sids'])} distinct MessageSids, {n - len(load['sids'])} duplicate posts), {senders} concurrent senders"
    )
    print(f"HTTP status: {load['statuses']}")
    print(
        f"webhook latency ms: p50 {percentile(lat, 50):.1f}  p95 {percentile(lat, 95):.1f}  p99 {percentile(lat, 99):.1f}  max {max(lat):.1f}"
    )
    print(f"throughput: {n / load['wall']:.1f} requests/s over {load['wall']:.2f} s")
    ok = load["statuses"].get(200, 0) == n
    if cpu_s is not None:
        print(
            f"server CPU: {cpu_s:.1f} s in total, {cpu_s / max(1, len(load['sids'])) * 1000:.0f} ms per message (webhook + turn + send), {os.cpu_count()} CPUs"
        )
    if check is not None:
        turn = check["turn_latencies"]
        print(
            f"stored {check['stored']} / distinct {check['distinct']} / answered {check['answered']} of {len(load['sids'])}; "
            f"outbox rows {check['outbox']} (sent/delivered {check['delivered']}), bot messages {check['bot_messages']}"
        )
        if turn:
            print(
                f"time to answer (stored -> answered) s: p50 {percentile(turn, 50):.2f}  p95 {percentile(turn, 95):.2f}  max {max(turn):.2f}"
            )
        lost = len(load["sids"]) - check["answered"]
        twice = check["stored"] - check["distinct"]
        per_inbound_ok = check["outbox"] == check["distinct"] and not check["mismatched_phones"]
        print(
            f"lost: {lost}  stored twice: {twice}  one reply per inbound: {'yes' if per_inbound_ok else 'NO ' + str(check['mismatched_phones'][:5])}"
        )
        ok = ok and lost == 0 and twice == 0 and per_inbound_ok
    print("RESULT:", "OK" if ok else "FAILED")
    return ok


def run_local(mode: str, args) -> bool:
    from api.sms.signature import webhook_auth_token  # noqa: I001  (after sys.path set-up)
    from core.migrate import upgrade
    from core.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-sms-{mode}-"))
    port = free_port()
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    env = {
        **os.environ,
        "AFTERCARE_ENV": "development",
        "AFTERCARE_DATA_DIR": str(tmp),
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_PORT": str(port),
        "AFTERCARE_API_TOKEN": "bench-token-0123456789abcdef",
        "AFTERCARE_SECRET_KEY": "bench-secret-" + uuid.uuid4().hex,
        "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "AFTERCARE_RASA_TIMEOUT": "8",
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"):
        env.pop(k, None)  # replies go to the local outbox
    upgrade(database_url)
    settings = load_settings({k: v for k, v in env.items() if k.startswith("AFTERCARE_")})
    token = webhook_auth_token(settings)
    child = subprocess.Popen([sys.executable, __file__, "--serve", mode], env=env, cwd=str(ROOT))
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0, trust_env=False)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the app did not start")
                time.sleep(0.2)
        cpu0 = cpu_seconds(child.pid)
        load = run_load(f"http://127.0.0.1:{port}", settings.public_url, token, args.senders, args.messages)
        check = verify(database_url, load["sids"], timeout=args.settle_timeout)
        cpu1 = cpu_seconds(child.pid)
        title = "assistant slow (2 s per answer)" if mode == "slow" else "assistant down (connection refused)"
        cpu = cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None
        return report(f"{title}; database {database_url.split(':', 1)[0]}", load, check, args.senders, cpu)
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


def run_remote(args) -> bool:
    from api.sms.signature import webhook_auth_token  # noqa: I001
    from core.settings import load_settings

    settings = load_settings()
    token = args.token or webhook_auth_token(settings)
    public_url = (args.public_url or settings.public_url).rstrip("/")
    if not token:
        print("no webhook token: set TWILIO_AUTH_TOKEN (or AFTERCARE_SECRET_KEY in development) or pass --token")
        return False
    load = run_load(args.url.rstrip("/"), public_url, token, args.senders, args.messages)
    database_url = args.database_url or settings.database_url
    check = verify(database_url, load["sids"], timeout=args.settle_timeout) if not args.no_verify else None
    return report(f"running server {args.url}", load, check, args.senders)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["slow", "down", "both"], default="both")
    p.add_argument("--senders", type=int, default=20, help="concurrent senders (one phone each)")
    p.add_argument("--messages", type=int, default=10, help="messages per sender")
    p.add_argument("--database-url", default="", help="database to use (default: a fresh SQLite file)")
    p.add_argument("--settle-timeout", type=float, default=180.0, help="seconds to wait for every answer")
    p.add_argument("--url", default="", help="benchmark a running server instead of starting one")
    p.add_argument("--token", default="", help="webhook signing token for --url (default: from the environment)")
    p.add_argument("--public-url", default="", help="AFTERCARE_PUBLIC_URL of the --url server")
    p.add_argument("--no-verify", action="store_true", help="with --url: skip the database checks")
    p.add_argument("--serve", choices=["slow", "down"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    print("command:", " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]))
    if args.url:
        return 0 if run_remote(args) else 1
    modes = ["slow", "down"] if args.mode == "both" else [args.mode]
    results = [run_local(m, args) for m in modes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
