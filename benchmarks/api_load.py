"""HTTP service under load: single-post and batch moderation at fixed request rates.

Usage:
    python benchmarks/api_load.py [--duration 60] [--rate 200] [--batch-size 100] [--batch-rate N]
                                  [--compare-inline] [--json OUT.json]

Three processes on loopback, as in production: the server (``qinglang serve``, one
worker, SQLite, the bundled packs and model, rate limits off), a load generator, and
this driver. The generator is **open-loop**: request *i* is sent at ``start + i/rate``
whatever happened to earlier ones, and its latency is measured from that scheduled
time, so a stalled server shows up as latency instead of silently lowering the rate
(coordinated omission). Posts are ``scan_throughput.generate`` (5% suspicious).

Phases, ``--duration`` seconds each:

* **single**: ``POST /v1/moderate``, one post per request, at ``--rate`` (200/s);
* **batch**: ``POST /v1/moderate/batch`` with ``--batch-size`` (100) posts, at
  ``--batch-rate`` requests/s; by default the rate that carries 60% of the CLI
  scan's posts/s (the goal) plus 5%, so keeping up with it shows the goal is met.
  A ``/healthz`` probe every 20 ms during the batch phase measures how long other
  requests wait while detection runs (the event loop's responsiveness).

Baseline, measured in the same run: ``scan_records`` over the same posts (what
``qinglang scan`` does), in this process, before the server starts, in posts per
second of wall time and per second of CPU time. The server's CPU time per request
(from /proc) gives the same CPU-based ratio for batches, which a machine busy with
other work does not distort the way wall-clock rates and latencies are. With
``--compare-inline`` both phases run again against a server with
``QINGLANG_DETECT_TIMEOUT_S=0``: detection inline on the event loop instead of the
detection thread (the "def vs async def" question, docs/service.md).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_throughput import generate

SECRET = "api-load-benchmark-secret"


def cli_scan_rate(rows: list[dict], repeat: int = 3) -> tuple[float, float]:
    """posts/s of the CLI's pipeline (read JSONL, validate, detect, write JSONL), best of ``repeat``:
    per second of wall time, and per second of this process's CPU time (which a busy machine
    does not change)."""
    from qinglang.detect.engine import Engine
    from qinglang.io.readers import read_records
    from qinglang.io.writers import open_writer
    from qinglang.scan import scan_records

    engine = Engine.from_options(None, model="default")
    engine.detect_text("warm up 加微信 荐股 600519")
    best = best_cpu = math.inf
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "posts.jsonl"
        src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            with open_writer(str(Path(tmp) / "out.jsonl")) as w:
                for out in scan_records(engine, read_records(str(src))):
                    w.write(out)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    return len(rows) / best, len(rows) / best_cpu


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


# --- the load generator (its own process) ---


class Http:
    """A minimal keep-alive HTTP/1.1 client for loopback: a few microseconds a request.

    A general client (httpx) costs about a millisecond of CPU per request, taken from the
    same two cores the server runs on; this one writes the request bytes and reads the
    status line, headers and ``Content-Length`` body, nothing more.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        reused = bool(self.idle)
        conn = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            writer.close()
            if reused and not getattr(exc, "partial", b""):
                # the server closed an idle keep-alive connection: what every client does is retry once
                return await self._fresh(method, path, body)
            raise
        status = int(head[9:12])
        length = 0
        keep = True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
        data = await reader.readexactly(length) if length else b""
        if keep:
            self.idle.append(conn)
        else:
            writer.close()
        return status, data

    async def _fresh(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        idle, self.idle = self.idle, []
        try:
            return await self.request(method, path, body)
        finally:
            self.idle.extend(idle)

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _run_phase(url: str, token: str, path: str, bodies: list[bytes], rate: float, duration: float,
                     probe: bool, posts_per_request: int) -> dict[str, Any]:
    host, port = url.rsplit("//", 1)[1].split(":")
    client = Http(host, int(port), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    probe_client = Http(host, int(port), {})
    latencies: list[float] = []
    probe_latencies: list[float] = []
    errors: dict[str, int] = {}
    item_errors = 0
    done_posts = 0
    n = int(rate * duration)
    # warm the connections and the server's key cache outside the measurement
    for body in bodies[:5]:
        await client.request("POST", path, body)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int, at: float) -> None:
        nonlocal item_errors, done_posts
        try:
            status, data = await client.request("POST", path, bodies[i % len(bodies)])
            latencies.append(loop.time() - at)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
                return
            done_posts += posts_per_request
            if posts_per_request > 1:
                item_errors += orjson.loads(data)["errors"]
        except Exception as exc:  # a refused or dropped connection is an error, not a crash
            latencies.append(loop.time() - at)
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    async def prober() -> None:
        k = 0
        while True:
            at = start + k * 0.02
            await asyncio.sleep(max(0.0, at - loop.time()))
            await probe_client.request("GET", "/healthz")
            probe_latencies.append(loop.time() - at)
            k += 1

    probe_task = asyncio.create_task(prober()) if probe else None
    tasks = []
    for i in range(n):
        at = start + i / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    if probe_task is not None:
        probe_task.cancel()
    client.close()
    probe_client.close()
    return {
        "requests": n,
        "rate": rate,
        "elapsed_s": round(elapsed, 2),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "throughput_rps": round(n / elapsed, 1),
        "posts_per_s": round(done_posts / elapsed, 1),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "item_errors": item_errors,
        "healthz_p50_ms": round(percentile(probe_latencies, 0.5) * 1000, 2) if probe else None,
        "healthz_p99_ms": round(percentile(probe_latencies, 0.99) * 1000, 2) if probe else None,
    }


def _generator(conn: Any, args: tuple) -> None:
    conn.send(asyncio.run(_run_phase(*args)))
    conn.close()


def run_phase(*args: Any) -> dict[str, Any]:
    """Run one phase in a separate process (the load generator) and return its figures."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_generator, args=(child, args))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


# --- the server (its own process) ---


def start_server(db_url: str, port: int, inline: bool) -> subprocess.Popen:
    exe = shutil.which("qinglang", path=str(Path(sys.executable).parent)) or "qinglang"
    env = {**os.environ, "QINGLANG_SECRET": SECRET, "QINGLANG_RATE_PER_S": "0", "QINGLANG_DB_URL": db_url,
           "QINGLANG_ENV": "development"}
    if inline:
        env["QINGLANG_DETECT_TIMEOUT_S"] = "0"
    proc = subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not become ready in 60 s")


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_key(db_url: str) -> str:
    exe = shutil.which("qinglang", path=str(Path(sys.executable).parent)) or "qinglang"
    env = {**os.environ, "QINGLANG_SECRET": SECRET, "QINGLANG_ENV": "development"}
    out = subprocess.run([exe, "keys", "create", "--role", "ingest", "--tenant", "bench", "--db", db_url],
                         env=env, check=True, capture_output=True)
    return out.stdout.decode().strip().splitlines()[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_server_phases(args: argparse.Namespace, rows: list[dict], batch_rate: float, inline: bool,
                      tmp: Path) -> dict[str, Any]:
    db_url = f"sqlite:///{tmp / ('inline' if inline else 'thread')}.db"
    token = make_key(db_url)
    port = free_port()
    server = start_server(db_url, port, inline)
    url = f"http://127.0.0.1:{port}"
    try:
        singles = [orjson.dumps(r) for r in rows[:20_000]]
        b = args.batch_size
        batches = [orjson.dumps({"posts": rows[i:i + b]}) for i in range(0, len(rows) - b + 1, b)]
        cpu0 = server_cpu_s(server.pid)
        single = run_phase(url, token, "/v1/moderate", singles, args.rate, args.duration, False, 1)
        cpu1 = server_cpu_s(server.pid)
        batch = run_phase(url, token, "/v1/moderate/batch", batches, batch_rate, args.duration, True, b)
        cpu2 = server_cpu_s(server.pid)
        # includes the warm-up requests and the /healthz probes: an upper bound per request
        single["server_cpu_ms_per_request"] = round((cpu1 - cpu0) / single["requests"] * 1000, 3)
        batch["server_cpu_ms_per_request"] = round((cpu2 - cpu1) / batch["requests"] * 1000, 3)
    finally:
        server.terminate()
        server.wait(10)
    return {"single": single, "batch": batch}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per phase (default 60)")
    ap.add_argument("--rate", type=float, default=200.0, help="single-post requests/s (default 200)")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--batch-rate", type=float, default=None,
                    help="batch requests/s (default: 60%% of the CLI scan's posts/s, divided by the batch size)")
    ap.add_argument("--posts", type=int, default=50_000, help="distinct generated posts (default 50,000)")
    ap.add_argument("--compare-inline", action="store_true", help="also run with detection on the event loop")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = ap.parse_args()

    rows = generate(args.posts, 0.05)
    cli_rate, cli_cpu_rate = cli_scan_rate(rows)
    goal_posts = 0.6 * cli_rate
    # offered a little above the goal, so that keeping up with it shows the goal is met
    batch_rate = args.batch_rate or math.ceil(goal_posts * 1.05 / args.batch_size * 10) / 10
    print(f"CLI scan: {cli_rate:,.0f} posts/s ({cli_cpu_rate:,.0f} per CPU second); batch goal (60%): "
          f"{goal_posts:,.0f} posts/s; offered {batch_rate} batches/s of {args.batch_size}", flush=True)
    result: dict[str, Any] = {"cli_scan_posts_per_s": round(cli_rate, 1),
                              "cli_scan_posts_per_cpu_s": round(cli_cpu_rate, 1),
                              "batch_goal_posts_per_s": round(goal_posts),
                              "duration_s": args.duration, "cpus": os.cpu_count(),
                              "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        modes = [False, True] if args.compare_inline else [False]
        for inline in modes:
            name = "inline" if inline else "thread"
            result[name] = run_server_phases(args, rows, batch_rate, inline, Path(tmp))
            for phase, r in result[name].items():
                extra = f", /healthz p99 {r['healthz_p99_ms']} ms" if r["healthz_p99_ms"] is not None else ""
                print(f"[{name}] {phase}: {r['requests']} requests at {r['rate']}/s: p50 {r['p50_ms']} ms, "
                      f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms, {r['throughput_rps']} req/s, "
                      f"{r['posts_per_s']:,.0f} posts/s, errors {r['errors']} {r['errors_by_kind'] or ''}, "
                      f"server CPU {r['server_cpu_ms_per_request']} ms/request"
                      f"{extra}", flush=True)
    t = result["thread"]
    result["goals"] = {
        "single_p99_under_20ms": t["single"]["p99_ms"] < 20 and t["single"]["errors"] == 0,
        "batch_at_least_60pct_of_cli": t["batch"]["posts_per_s"] >= goal_posts and t["batch"]["errors"] == 0,
    }
    server_posts_per_cpu_s = args.batch_size / (t["batch"]["server_cpu_ms_per_request"] / 1000)
    result["batch_server_posts_per_cpu_s"] = round(server_posts_per_cpu_s, 1)
    result["batch_cpu_efficiency_vs_cli"] = round(server_posts_per_cpu_s / cli_cpu_rate, 3)
    result["load_average_after"] = os.getloadavg()
    print(f"batch: the server spends {1e6 / server_posts_per_cpu_s:.0f} µs CPU per post, the CLI scan "
          f"{1e6 / cli_cpu_rate:.0f} µs ({result['batch_cpu_efficiency_vs_cli']:.0%} of the CLI's posts per CPU s)")
    print(f"goals: {result['goals']}; load average before {result['load_average_before']}, "
          f"after {result['load_average_after']}")
    if args.json:
        args.json.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
