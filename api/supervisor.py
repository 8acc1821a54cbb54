"""Start the whole service: the action server, the Rasa server and the API.

`python -m api.supervisor` (what `make run` runs) prepares the database (core/bootstrap.py:
migrations, first-install defaults, demo data in development) and runs the three processes in
the foreground with prefixed logs; Ctrl-C stops everything. The end-to-end tests, `make eval` and
`make bench` use `Stack(...).start()`. Internal ports come from the public port
(core.settings.port_plan) so instances on different AFTERCARE_PORTs never collide.

The supervisor starts Rasa and the action server as commands, never imports them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from core.bootstrap import prepare
from core.settings import PROJECT_ROOT, load_settings, port_plan

ROOT = PROJECT_ROOT

COLORS = {"api": "\033[36m", "rasa": "\033[35m", "actions": "\033[33m"}
RESET = "\033[0m"


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@dataclass
class Proc:
    name: str
    cmd: list[str]
    popen: subprocess.Popen | None = None
    restarts: int = 0


def _only_oncall_missing(exc: urllib.error.HTTPError) -> bool:
    try:
        return json.loads(exc.read() or b"{}").get("missing") == ["oncall_contacts"]
    except ValueError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _sql_tracker_store(url: str) -> str:
    """Rasa's SQL tracker store on PostgreSQL (several Rasa servers share the conversations' state);
    the database is created on first use, from the cluster's own database (``login_db``)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    lines = [
        "tracker_store:",
        "  type: SQL",
        '  dialect: "postgresql"',
        f'  url: "{u.host or "127.0.0.1"}"',
        f"  port: {u.port or 5432}",
        f'  db: "{u.database}"',
        f'  username: "{u.username or ""}"',
    ]
    if u.password:
        lines.append(f'  password: "{u.password}"')
    if u.query.get("login_db"):
        lines.append(f'  login_db: "{u.query["login_db"]}"')
    return "\n".join(lines) + "\n"


@dataclass
class Stack:
    port: int = 8000
    env: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    log_file: Path | None = None
    procs: list[Proc] = field(default_factory=list)
    _stopping: bool = False

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        rasa_port, action_port = port_plan(self.port)
        env.setdefault("AFTERCARE_PORT", str(self.port))
        env["AFTERCARE_PORT"] = str(self.port)
        env.setdefault("AFTERCARE_RASA_URL", f"http://127.0.0.1:{rasa_port}")
        env.setdefault("AFTERCARE_ACTION_URL", f"http://127.0.0.1:{action_port}/webhook")
        # Rasa -> action server: a token per run, sent as a header (actions/server.py checks it)
        if not env.get("AFTERCARE_ACTION_TOKEN"):
            import secrets

            env["AFTERCARE_ACTION_TOKEN"] = secrets.token_urlsafe(32)
        # API -> Rasa: only the API's channel calls reach the assistant (bot/channel.py checks it)
        if not env.get("AFTERCARE_RASA_TOKEN"):
            import secrets

            env["AFTERCARE_RASA_TOKEN"] = secrets.token_urlsafe(32)
        env["RASA_TELEMETRY_ENABLED"] = "false"
        # short timeouts on every hop: the API waits 8 s (AFTERCARE_RASA_TIMEOUT), so Rasa's own
        # turn budget must end first; Rasa's default lock lifetime (60 s) is far too long for chat
        env.setdefault("AFTERCARE_RASA_TURN_TIMEOUT", "6")
        env.setdefault("TICKET_LOCK_LIFETIME", "15")
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
        return env

    def _endpoints_file(self, env: dict[str, str]) -> Path:
        run_dir = Path(env.get("AFTERCARE_DATA_DIR") or ROOT / "var") / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / f"endpoints-{self.port}.yml"
        token = env["AFTERCARE_ACTION_TOKEN"]
        # this Rasa server's own action server: the first of the list (a cluster's API replicas list them all)
        own_action_url = env["AFTERCARE_ACTION_URL"].split(",")[0].strip()
        # the file holds the token: readable by this user only
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f'action_endpoint:\n  url: "{own_action_url}"\n  headers:\n    X-Aftercare-Action-Token: "{token}"\n')
            tracker = env.get("AFTERCARE_RASA_TRACKER_URL", "").strip()
            if tracker:
                fh.write(_sql_tracker_store(tracker))
        os.chmod(path, 0o600)
        return path

    def _log_config_file(self, env: dict[str, str], settings) -> Path:
        """The API's logging (api/logs.py: JSON lines or text, with this replica's name)."""
        from api.logs import dict_config

        run_dir = Path(env.get("AFTERCARE_DATA_DIR") or ROOT / "var") / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / f"logging-{self.port}.json"
        replica = env.get("AFTERCARE_REPLICA_NAME") or f"{socket.gethostname()}:{self.port}"
        config = dict_config(log_format=settings.effective_log_format, level=settings.log_level, replica=replica)
        path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        return path

    def start(self, wait: bool = True, timeout: float = 240.0) -> None:
        env = self.child_env()
        settings = load_settings(env)
        model = Path(env["AFTERCARE_MODEL"]) if env.get("AFTERCARE_MODEL") else latest_model(ROOT / "models")
        if model is None or not model.exists():
            raise SystemExit("No trained model in models/. Run `make train` (make run does it for you).")
        rasa_port, action_port = port_plan(self.port)
        busy = [p for p in (rasa_port, action_port) if not _port_free(p)]
        if busy:
            raise SystemExit(
                f"internal port(s) {', '.join(map(str, busy))} of AFTERCARE_PORT={self.port} are taken by another program: "
                "choose another AFTERCARE_PORT (core.settings.port_plan)"
            )
        py = sys.executable
        rasa_bin = str(Path(py).with_name("rasa"))
        endpoints = self._endpoints_file(env)
        self._env = env
        self.procs = [
            Proc("actions", [py, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(action_port)]),
            Proc(
                "rasa",
                [
                    rasa_bin,
                    "run",
                    "--model",
                    str(model),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    # bot/credentials.yml has our channel only; make bench passes one that adds Rasa's REST channel
                    env.get("AFTERCARE_RASA_CREDENTIALS") or str(ROOT / "bot" / "credentials.yml"),
                    "--port",
                    str(rasa_port),
                    "--interface",
                    "127.0.0.1",
                    "--response-timeout",
                    "10",
                ],
            ),
            Proc(
                "api",
                [
                    py,
                    "-m",
                    "uvicorn",
                    "api.app:create_app",
                    "--factory",
                    "--host",
                    settings.host,
                    "--port",
                    str(self.port),
                    "--no-server-header",
                    "--no-proxy-headers",  # the app reads X-Forwarded-For from AFTERCARE_TRUSTED_PROXIES itself
                    "--timeout-graceful-shutdown",
                    "5",
                    "--ws",
                    "none",  # no websockets endpoint; Rasa's websockets pin is too old for uvicorn's
                    "--log-config",
                    str(self._log_config_file(env, settings)),
                ],
            ),
        ]
        for p in self.procs:
            self._spawn(p)
        threading.Thread(target=self._watch, daemon=True).start()
        if wait:
            self.wait_ready(timeout)

    def _spawn(self, p: Proc) -> None:
        p.popen = subprocess.Popen(
            p.cmd,
            cwd=ROOT,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(p, p.popen), daemon=True).start()

    def _pump(self, p: Proc, popen: subprocess.Popen) -> None:
        color = COLORS.get(p.name, "") if sys.stdout.isatty() else ""
        reset = RESET if color else ""
        fh = open(self.log_file, "a", encoding="utf-8") if self.log_file else None
        for line in popen.stdout:  # type: ignore[union-attr]
            if fh:
                fh.write(f"[{p.name}] {line}")
                fh.flush()
            if not self.quiet:
                sys.stdout.write(f"{color}{p.name:>7} |{reset} {line}")
                sys.stdout.flush()
        if fh:
            fh.close()

    def _watch(self) -> None:
        """Restart the Rasa server or action server if one dies (the API keeps answering meanwhile)."""
        while not self._stopping:
            for p in self.procs:
                if self._stopping or p.popen is None or p.popen.poll() is None:
                    continue
                if p.restarts >= 5:
                    continue
                p.restarts += 1
                print(f"[supervisor] {p.name} exited with {p.popen.returncode}; restarting ({p.restarts}/5)", flush=True)
                time.sleep(min(2 * p.restarts, 10))
                if not self._stopping:
                    self._spawn(p)
            time.sleep(0.5)

    def wait_ready(self, timeout: float = 240.0) -> float:
        start = time.monotonic()
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() - start < timeout:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except urllib.error.HTTPError as exc:
                if exc.code == 503 and _only_oncall_missing(exc):
                    # up and answering patients; not ready for production until an admin sets the
                    # on-call contacts in the inbox (which must therefore be reachable)
                    print("[supervisor] WARNING: no on-call phone is set: set it in the inbox (Settings)", flush=True)
                    return time.monotonic() - start
            except Exception:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"service on port {self.port} not ready after {timeout:.0f}s")

    def stop(self) -> None:
        self._stopping = True
        for p in reversed(self.procs):
            if p.popen and p.popen.poll() is None:
                try:
                    os.killpg(p.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for p in self.procs:
            if p.popen is None:
                continue
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.popen.wait()

    def pids(self) -> dict[str, int]:
        return {p.name: p.popen.pid for p in self.procs if p.popen}


def main() -> int:
    # the database, the spool and the run files hold patients' messages: this user only (0600 / 0700)
    os.umask(0o077)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-prepare", action="store_true", help="skip migrations and demo data")
    args = ap.parse_args()
    env = dict(os.environ)
    port = int(env.get("AFTERCARE_PORT", "8000") or 8000)
    generated = False
    if not env.get("AFTERCARE_API_TOKEN"):
        import secrets

        env["AFTERCARE_API_TOKEN"] = secrets.token_urlsafe(24)
        generated = True
    os.environ.update(env)
    if not args.no_prepare:
        prepare(env)
    stack = Stack(port=port, env=env)
    started = time.monotonic()

    def _stop(*_a) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.start(wait=False)
        took = stack.wait_ready()
        base = f"http://127.0.0.1:{port}"
        development = env.get("AFTERCARE_ENV", os.environ.get("AFTERCARE_ENV", "development")) in ("development", "test")
        print(
            "\n"
            f"  Aftercare assistant is ready ({took:.1f}s; {time.monotonic() - started:.1f}s since start)\n"
            f"    Web chat demo page : {base}/demo\n"
            + (f"    SMS simulator      : {base}/simulator\n" if development else "")
            + f"    Staff inbox        : {base}/inbox"
            + ("   (demo sign-in: see README)\n" if development else "\n")
            + (f"    API docs           : {base}/docs\n" if development else "")
            + f"    Health             : {base}/healthz  (liveness: {base}/healthz/live)\n"
            + (f"    Integration token  : {env['AFTERCARE_API_TOKEN']}   (generated for this run)\n" if generated else "")
            + "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n[supervisor] stopping...", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
