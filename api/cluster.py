"""Several replicas on one machine, behind HAProxy, on PostgreSQL (issue #19): `make cluster`.

    python -m api.cluster --replicas 2          (what `make cluster` runs)

- **PostgreSQL**: ``AFTERCARE_DATABASE_URL`` (default: the local server, database
  ``aftercare_cluster``, created if missing). The clinic's data, the SMS outbox, the paging
  queue and every replica's turn lock live there. Rasa's conversation trackers go to a second
  database beside it (``<name>_rasa``, Rasa's SQL tracker store), so any Rasa server can take
  any conversation.
- **N nodes**, each an API replica, a Rasa server and an action server
  (:class:`api.supervisor.Stack` on ports ``port+1 .. port+N``; the supervisor restarts a
  process that dies). Each API replica tries the Rasa servers in an order set by the
  conversation (its own is not special) and fails over to the next.
- **HAProxy** on the public port in front of the API replicas, health-checked on
  ``/healthz/live``: a replica whose Rasa is down still screens, escalates and answers safely,
  so it stays in rotation; a replica that does not answer at all is taken out within about two
  seconds. A request whose connection failed is sent to another replica.

The one-box ``make run`` on SQLite stays the default; this is how the production topology in
docs/deploy.md is run and tested on one machine (tests/cluster/test_cluster.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from api.supervisor import ROOT, Stack, port_plan

HAPROXY = "haproxy"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/aftercare_cluster"


def haproxy_binary() -> str | None:
    return shutil.which(HAPROXY) or (str(Path("/usr/sbin/haproxy")) if Path("/usr/sbin/haproxy").exists() else None)


def ensure_database(url: str) -> None:
    """Create the cluster's database if it is missing (PostgreSQL only)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise SystemExit(f"a cluster needs PostgreSQL (AFTERCARE_DATABASE_URL is {u.drivername})")
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    finally:
        admin.dispose()


def tracker_url(database_url: str) -> str:
    """Rasa's tracker database beside the cluster's (created by Rasa from ``login_db`` on first use)."""
    from sqlalchemy.engine import make_url

    u = make_url(database_url)
    return u.set(database=f"{u.database}_rasa", query={"login_db": u.database}).render_as_string(hide_password=False)


def haproxy_config(port: int, node_ports: list[int], host: str = "127.0.0.1") -> str:
    servers = "\n".join(f"    server api{i + 1} 127.0.0.1:{p} check inter 1s fall 2 rise 2" for i, p in enumerate(node_ports))
    return f"""global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    # a request whose connection failed goes to another replica (nothing reached the dead one)
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response

frontend aftercare
    bind {host}:{port}
    default_backend api

backend api
    balance roundrobin
    # liveness, not readiness: a replica whose Rasa is down still screens and escalates
    option httpchk GET /healthz/live
    http-check expect status 200
{servers}
"""


@dataclass
class Cluster:
    port: int = 8000
    replicas: int = 2
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path = ROOT / "var" / "cluster"
    quiet: bool = False
    nodes: list[Stack] = field(default_factory=list)
    haproxy: subprocess.Popen | None = None

    @property
    def node_ports(self) -> list[int]:
        return [self.port + 1 + i for i in range(self.replicas)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def node_env(self, i: int) -> dict[str, str]:
        """Node i's environment: its own data folder (spool), the shared database and tokens, and
        every Rasa server and action server, its own first."""
        ports = self.node_ports
        order = [ports[i]] + [p for j, p in enumerate(ports) if j != i]
        env = dict(self.env)
        env["AFTERCARE_DATA_DIR"] = str(self.data_dir / f"node-{i + 1}")
        env["AFTERCARE_RASA_URL"] = ",".join(f"http://127.0.0.1:{port_plan(p)[0]}" for p in order)
        env["AFTERCARE_ACTION_URL"] = ",".join(f"http://127.0.0.1:{port_plan(p)[1]}/webhook" for p in order)
        env["AFTERCARE_RASA_TRACKER_URL"] = tracker_url(env["AFTERCARE_DATABASE_URL"])
        env.setdefault("AFTERCARE_PUBLIC_URL", self.base_url)  # what Twilio signs, whichever replica answers
        return env

    def prepare_env(self) -> None:
        import secrets

        self.env.setdefault("AFTERCARE_DATABASE_URL", DEFAULT_DATABASE)
        for key in ("AFTERCARE_RASA_TOKEN", "AFTERCARE_ACTION_TOKEN"):
            if not self.env.get(key):
                self.env[key] = secrets.token_urlsafe(32)

    def start(self, timeout: float = 420.0, log_dir: Path | None = None) -> None:
        from core.bootstrap import prepare

        binary = haproxy_binary()
        if binary is None:
            raise SystemExit("HAProxy is missing: `make haproxy` (Debian's package) installs it")
        self.prepare_env()
        ensure_database(self.env["AFTERCARE_DATABASE_URL"])
        # Rasa's trackers: created here, once (two Rasa servers creating it at once, one fails noisily)
        ensure_database(tracker_url(self.env["AFTERCARE_DATABASE_URL"]).split("?", 1)[0])
        self.data_dir.mkdir(parents=True, exist_ok=True)
        prepare(dict(self.env))  # migrations and first-install defaults, once, before any replica starts
        for i, port in enumerate(self.node_ports):
            log_file = (log_dir / f"node-{i + 1}.log") if log_dir else None
            node = Stack(port=port, env=self.node_env(i), quiet=self.quiet, log_file=log_file)
            node.start(wait=False)
            self.nodes.append(node)
        cfg = self.data_dir / "haproxy.cfg"
        cfg.write_text(haproxy_config(self.port, self.node_ports), encoding="utf-8")
        check = subprocess.run([binary, "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            self.stop()
            raise SystemExit(f"HAProxy refused its configuration: {check.stderr.strip()}")
        out = open(log_dir / "haproxy.log", "a") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        self.haproxy = subprocess.Popen(
            [binary, "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            for node in self.nodes:
                node.wait_ready(timeout)
            self._wait_balancer(timeout=30)
        except Exception:
            self.stop()
            raise

    def _wait_balancer(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz/live", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.3)
        raise TimeoutError("HAProxy did not start answering")

    def stop(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            os.killpg(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.haproxy.pid, signal.SIGKILL)
        threads = [threading.Thread(target=n.stop) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def main() -> int:
    os.umask(0o077)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=int(os.environ.get("AFTERCARE_REPLICAS", "2")))
    args = ap.parse_args()
    env = dict(os.environ)
    port = int(env.get("AFTERCARE_PORT", "8000") or 8000)
    if not env.get("AFTERCARE_API_TOKEN"):
        import secrets

        env["AFTERCARE_API_TOKEN"] = secrets.token_urlsafe(24)
    cluster = Cluster(port=port, replicas=args.replicas, env=env, data_dir=ROOT / "var" / f"cluster-{port}")

    def _stop(*_a) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    try:
        cluster.start()
        print(
            f"\n  Aftercare cluster is ready ({time.monotonic() - started:.0f}s): {args.replicas} replicas behind HAProxy\n"
            f"    Public (HAProxy)   : {cluster.base_url}   (web chat demo {cluster.base_url}/demo, inbox {cluster.base_url}/inbox)\n"
            + "".join(
                f"    Replica {i + 1}          : http://127.0.0.1:{p}  (metrics http://127.0.0.1:{p}/metrics)\n"
                for i, p in enumerate(cluster.node_ports)
            )
            + f"    Database           : {env.get('AFTERCARE_DATABASE_URL', DEFAULT_DATABASE).split('@')[-1]}\n"
            + f"    Integration token  : {env['AFTERCARE_API_TOKEN']}\n"
            + "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n[cluster] stopping...", flush=True)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
