"""Benchmark the running service on this machine, against Rasa's own REST channel.

Starts the whole stack (API + Rasa server + action server) on a free port with the trained
model, then measures:
  - start-up: from launching the processes to a 200 from /healthz (model already trained);
  - the web chat message endpoint: p50/p95 latency and messages/s with 1 and 20 concurrent
    conversations (each request is one patient message, full path: screen, Rasa, actions, DB);
  - Rasa's REST channel (/webhooks/rest/webhook) on the same model in the same run, same messages;
  - peak memory (VmHWM) of each process.
Usage: .venv/bin/python scripts/bench.py [--requests 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.supervisor import Stack  # noqa: E402
from core.bootstrap import prepare  # noqa: E402
from core.settings import port_plan  # noqa: E402
from scripts.clients import patient_headers  # noqa: E402

MESSAGES = [
    "can i wear makeup tomorrow",
    "when can I go back to the gym",
    "is it normal to be peeling on day 4",
    "how many sessions will i need for acne scars",
    "what sunscreen should i use after",
    "hello",
    "can I use my retinol again",
    "how long does the redness last",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


PER_SESSION = 15  # messages per web chat session, below its rate limit


async def run_load(url_for, body_for, n_requests: int, concurrency: int, setup=None) -> dict:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=60) as client:
        sessions = [await setup(client, i) if setup else f"bench-{i}-{time.time_ns()}" for i in range(concurrency)]
        counter = iter(range(n_requests))

        async def worker(w: int) -> None:
            nonlocal errors
            sent = 0
            for i in counter:
                text = MESSAGES[i % len(MESSAGES)]
                sent += 1
                if setup and sent % PER_SESSION == 0:
                    # a web chat session may send 20 messages a minute (api/limits.py): a new patient
                    # conversation takes over, still one at a time per worker
                    sessions[w] = await setup(client, w)
                t0 = time.perf_counter()
                r = await client.post(url_for(sessions[w]), json=body_for(sessions[w], text))
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        wall = time.perf_counter() - t0
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(pct(latencies, 95) * 1000, 1),
        "p99_ms": round(pct(latencies, 99) * 1000, 1),
        "msgs_per_s": round(len(latencies) / wall, 1),
    }


def peak_memory_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process and its children, in MiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1) if total else None


def make_run_startup(port: int, data_dir: Path) -> float:
    """Seconds from typing `make run` (venv and model already there) to a 200 from /healthz."""
    import os
    import signal
    import subprocess
    import urllib.request

    env = dict(os.environ)
    env.update(
        {
            "AFTERCARE_PORT": str(port),
            "AFTERCARE_DATA_DIR": str(data_dir),
            "AFTERCARE_DATABASE_URL": f"sqlite:///{data_dir / 'make-run.db'}",
        }
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while time.perf_counter() - t0 < 600:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except Exception:
                pass
            if proc.poll() is not None:
                raise RuntimeError("make run exited early")
            time.sleep(0.25)
        raise TimeoutError("make run not ready in 600 s")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="aftercare-bench-"))
    env = {
        "AFTERCARE_ENV": "development",
        "AFTERCARE_PORT": str(args.port),
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}",
        "AFTERCARE_API_TOKEN": "bench-token-0123456789abcdef",
        "AFTERCARE_LOG_LEVEL": "WARNING",
        "AFTERCARE_RASA_CREDENTIALS": str(ROOT / "bot" / "credentials-bench.yml"),  # adds Rasa's REST channel
    }
    import subprocess

    # the red-flag screen on its own, in a process of its own (its memory is then the model's alone)
    screen_run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_screen.py")], capture_output=True, text=True, check=False
    )
    results: dict = {
        "screen": json.loads(screen_run.stdout) if screen_run.returncode == 0 else {"error": screen_run.stderr[-300:]}
    }
    results["make_run_s"] = round(make_run_startup(args.port + 1, data_dir / "make-run"), 1)
    prepare(env)
    stack = Stack(port=args.port, env=env, quiet=True, log_file=data_dir / "stack.log")
    t0 = time.perf_counter()
    stack.start(wait=True, timeout=300)
    startup = time.perf_counter() - t0
    base = f"http://127.0.0.1:{args.port}"
    rasa_base = f"http://127.0.0.1:{port_plan(args.port)[0]}"
    results["startup_s"] = round(startup, 1)
    try:

        async def new_session(client: httpx.AsyncClient, _i: int) -> str:
            return (await client.post(f"{base}/api/v1/chat/sessions", json={}, headers=patient_headers())).json()["session_id"]

        async def all_runs() -> None:
            for conc in (1, 20):
                n = args.requests if conc > 1 else max(40, args.requests // 4)
                results[f"api_c{conc}"] = await run_load(
                    lambda sid: f"{base}/api/v1/chat/sessions/{sid}/messages",
                    lambda sid, text: {"text": text},
                    n,
                    conc,
                    new_session,
                )
                results[f"rasa_rest_c{conc}"] = await run_load(
                    lambda sid: f"{rasa_base}/webhooks/rest/webhook", lambda sid, text: {"sender": sid, "message": text}, n, conc
                )

        asyncio.run(all_runs())
        results["peak_memory_mb"] = {name: peak_memory_mb(pid) for name, pid in stack.pids().items()}
    finally:
        stack.stop()
    cmd = "make bench  (= .venv/bin/python scripts/bench.py " + " ".join(sys.argv[1:]) + ")"
    print(
        f"\nBenchmark on {platform.node()} ({platform.processor() or platform.machine()}), {time.strftime('%Y-%m-%d %H:%M')}; command: {cmd}"
    )
    print(f"`make run` to a ready /healthz (venv and trained model present, fresh database): {results['make_run_s']} s")
    print(f"processes started to a ready /healthz (migrated database): {results['startup_s']} s")
    print(f"{'endpoint':<34}{'conc':>5}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'msg/s':>8}{'errors':>8}")
    for conc in (1, 20):
        for key, label in ((f"api_c{conc}", "our web chat API (full path)"), (f"rasa_rest_c{conc}", "Rasa REST channel (raw)")):
            r = results[key]
            print(f"{label:<34}{conc:>5}{r['requests']:>6}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['msgs_per_s']:>8}{r['errors']:>8}")
        ratio = results[f"api_c{conc}"]["p50_ms"] / max(0.1, results[f"rasa_rest_c{conc}"]["p50_ms"])
        print(f"{'  overhead ratio (p50 ours/raw)':<34}{conc:>5}{ratio:>15.2f}x")
    print("peak memory (VmHWM, MiB):", ", ".join(f"{k}={v}" for k, v in results["peak_memory_mb"].items()))
    sc = results["screen"]
    if "error" in sc:
        print("red-flag screen: the learned model did not load:", sc["error"])
    else:
        print(
            f"red-flag screen per message (scripts/bench_screen.py, hold-out set x3, n={sc['lexicon']['messages']}, "
            f"mean {sc['mean_chars']} chars): lexicon alone p50 {sc['lexicon']['p50_ms']} ms / p95 {sc['lexicon']['p95_ms']} ms; "
            f"lexicon + learned model ({sc['threads']} encoder threads) p50 {sc['lexicon_and_model']['p50_ms']} ms / "
            f"p95 {sc['lexicon_and_model']['p95_ms']} ms (budget p95 <= 50 ms); the model adds {sc['extra_memory_mb']} MiB "
            f"to the API process (budget <= 150 MiB), loads in {sc['model_load_s']} s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
