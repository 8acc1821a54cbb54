"""`make bench-cluster`: the cluster of `make cluster` (api/cluster.py) with 1 and with 2 replicas,
side by side, on this machine, each on a fresh PostgreSQL database behind HAProxy.

For each: the web chat message endpoint through HAProxy (full path: screen, advisory turn lock,
Rasa with its PostgreSQL tracker store, actions, database), with 1 and with N concurrent
conversations; throughput and p50/p95/p99. Beside them, in the same run, the stock alternative:
Rasa's own REST channel on one of the cluster's Rasa servers, same messages (no screen, no
database of ours). Tests never assert timings; these figures are for docs/deploy.md.

Usage: .venv/bin/python scripts/bench_cluster.py [--requests 200] [--concurrency 16] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.cluster import Cluster, tracker_url  # noqa: E402
from api.supervisor import port_plan  # noqa: E402
from scripts.bench import run_load  # noqa: E402
from scripts.clients import patient_headers  # noqa: E402

PG_ADMIN = os.environ.get("AFTERCARE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def drop(database: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def measure(replicas: int, port: int, requests: int, concurrency: int, stock: bool) -> dict:
    name = f"aftercare_bench_{secrets.token_hex(4)}"
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"aftercare-bench-cluster-{replicas}-"))
    env = {
        "AFTERCARE_ENV": "development",
        "AFTERCARE_DATABASE_URL": url,
        "AFTERCARE_API_TOKEN": "bench-token-0123456789abcdef",
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "AFTERCARE_RASA_CREDENTIALS": str(ROOT / "bot" / "credentials-bench.yml"),  # adds Rasa's REST channel
    }
    cluster = Cluster(port=port, replicas=replicas, env=env, data_dir=data_dir, quiet=True)
    t0 = time.perf_counter()
    cluster.start(log_dir=data_dir)
    out: dict = {"replicas": replicas, "startup_s": round(time.perf_counter() - t0, 1)}
    base = cluster.base_url
    rasa_base = f"http://127.0.0.1:{port_plan(cluster.node_ports[0])[0]}"
    try:

        async def new_session(client: httpx.AsyncClient, _i: int) -> str:
            r = await client.post(f"{base}/api/v1/chat/sessions", json={}, headers=patient_headers())
            return r.json()["session_id"]

        async def runs() -> None:
            for conc in (1, concurrency):
                n = requests if conc > 1 else max(40, requests // 4)
                out[f"api_c{conc}"] = await run_load(
                    lambda sid: f"{base}/api/v1/chat/sessions/{sid}/messages",
                    lambda sid, text: {"text": text},
                    n,
                    conc,
                    new_session,
                )
                if stock:
                    out[f"rasa_rest_c{conc}"] = await run_load(
                        lambda sid: f"{rasa_base}/webhooks/rest/webhook",
                        lambda sid, text: {"sender": sid, "message": text},
                        n,
                        conc,
                    )

        asyncio.run(runs())
    finally:
        cluster.stop()
        drop(name)
        drop(tracker_url(url).split("?")[0].rsplit("/", 1)[1])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--port", type=int, default=18600)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = [
        measure(1, args.port, args.requests, args.concurrency, stock=True),
        measure(2, args.port + 10, args.requests, args.concurrency, stock=False),
    ]
    cmd = "make bench-cluster  (= .venv/bin/python scripts/bench_cluster.py " + " ".join(sys.argv[1:]) + ")"
    print(f"\nCluster benchmark on {platform.node()} ({os.cpu_count()} CPUs), {time.strftime('%Y-%m-%d %H:%M')}; command: {cmd}")
    print("web chat messages through HAProxy, PostgreSQL, each replica = API + Rasa server + action server on this one machine")
    print(f"{'path':<44}{'conc':>5}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'msg/s':>8}{'errors':>8}")
    for conc in (1, args.concurrency):
        for r in results:
            row = r[f"api_c{conc}"]
            label = f"our API, {r['replicas']} replica{'s' if r['replicas'] > 1 else ''} (full path)"
            print(
                f"{label:<44}{conc:>5}{row['requests']:>6}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
                f"{row['msgs_per_s']:>8}{row['errors']:>8}"
            )
        stock = results[0].get(f"rasa_rest_c{conc}")
        if stock:
            label = "stock: Rasa REST channel, one Rasa server"
            print(
                f"{label:<44}{conc:>5}{stock['requests']:>6}{stock['p50_ms']:>9}{stock['p95_ms']:>9}{stock['p99_ms']:>9}"
                f"{stock['msgs_per_s']:>8}{stock['errors']:>8}"
            )
    print("start-up to ready (s): " + ", ".join(f"{r['replicas']} replica(s) {r['startup_s']}" for r in results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
