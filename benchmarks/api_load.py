"""Requests per second of authenticated GET /api/v1/projects, against a bare Starlette baseline.

Usage:  python benchmarks/api_load.py [--rounds 3] [--seconds 8] [--connections 32] [--postgres URL]

Each round measures the baseline and releasewise (SQLite, then PostgreSQL when available) back to back
with wrk on loopback, so machine noise hits all of them alike; the report gives the median of the rounds
and the ratio to the baseline. Servers run under uvicorn with one worker (uvloop + httptools).
Needs `wrk` (apt-get install wrk). PostgreSQL: --postgres URL, $RELEASEWISE_BENCH_POSTGRES_URL, or a
throwaway cluster started like the tests do.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start(cmd: list[str], env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/api/v1/projects", proc)
    return proc


def uvicorn_cmd(target: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools"]


def releasewise_server(database_url: str | None, data_dir: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """Seed the demo lab, make a read token for its release lead, and serve it."""
    env = {**os.environ, "RELEASEWISE_DATA_DIR": str(data_dir), "RELEASEWISE_SECRET_KEY": "bench"}
    env.pop("RELEASEWISE_DATABASE_URL", None)
    if database_url:
        env["RELEASEWISE_DATABASE_URL"] = database_url
    seed = (
        "from releasewise.bootstrap import build_runtime\n"
        "from releasewise.config import Settings\n"
        "from releasewise.services import accounts, demo, tokens\n"
        "rt = build_runtime(Settings(), migrate_schema=True)\n"
        "demo.seed_demo(rt)\n"
        "actor = accounts.authenticate_password(rt, login='jonas', password=demo.DEMO_PASSWORD, ip='127.0.0.1')\n"
        "print(tokens.create_token(rt, actor, name='bench', scopes=['read'])[1])\n"
    )
    token = subprocess.run([sys.executable, "-c", seed], env=env, capture_output=True, text=True, check=True,
                           cwd=data_dir).stdout.strip().splitlines()[-1]
    port = free_port()
    proc = start(uvicorn_cmd("releasewise.asgi:app", port), env, port, data_dir)
    return proc, port, token


def wrk(port: int, seconds: int, connections: int, token: str | None) -> float:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}/api/v1/projects"], capture_output=True, text=True,
                         check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{non_2xx.group(1)} failed responses during the run:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"could not read wrk output:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", default=os.environ.get("RELEASEWISE_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    pg_server = None
    pg_url = args.postgres
    if not pg_url and not args.no_postgres:
        from tests.support.postgres import start_throwaway

        pg_server, reason = start_throwaway()
        pg_url = pg_server.url if pg_server else ""
        if not pg_server:
            print(f"PostgreSQL skipped: {reason}")

    work = Path(tempfile.mkdtemp(prefix="rw-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        base_port = free_port()
        procs.append(start(uvicorn_cmd("bare_starlette:app", base_port),
                           {**os.environ, "PYTHONPATH": str(ROOT / "benchmarks")}, base_port, work))
        targets: dict[str, tuple[int, str | None]] = {"bare Starlette (baseline)": (base_port, None)}
        sqlite_dir = work / "sqlite"
        sqlite_dir.mkdir()
        proc, port, token = releasewise_server(None, sqlite_dir)
        procs.append(proc)
        targets["releasewise, SQLite"] = (port, token)
        if pg_url:
            pg_dir = work / "pg"
            pg_dir.mkdir()
            proc, port, token = releasewise_server(pg_url, pg_dir)
            procs.append(proc)
            targets["releasewise, PostgreSQL"] = (port, token)

        results: dict[str, list[float]] = {name: [] for name in targets}
        for round_no in range(1, args.rounds + 1):
            for name, (port, token) in targets.items():
                rps = wrk(port, args.seconds, args.connections, token)
                results[name].append(rps)
                print(f"round {round_no}: {name:28s} {rps:9.0f} req/s", flush=True)

        baseline = statistics.median(results["bare Starlette (baseline)"])
        print(f"\nGET /api/v1/projects, wrk -t2 -c{args.connections} -d{args.seconds}s, {args.rounds} rounds, "
              f"uvicorn 1 worker, {os.cpu_count()} CPUs")
        print(f"{'server':28s} {'median req/s':>13s} {'min':>8s} {'max':>8s} {'× baseline':>11s}")
        for name, values in results.items():
            median = statistics.median(values)
            print(f"{name:28s} {median:13.0f} {min(values):8.0f} {max(values):8.0f} {median / baseline:11.2f}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
        if pg_server:
            pg_server.stop()


if __name__ == "__main__":
    main()
