"""Upload ingest (chunked upload + SHA-256 on both sides + content-addressed store) against `sha256sum`.

Usage:  python benchmarks/upload.py [--rounds 3] [--size-mib 1024] [--chunk-mib 32]

Each round, back to back on loopback:

* baseline: ``sha256sum FILE`` (read + hash, the least any verified ingest must do);
* releasewise: ``releasewise push ORG/PROJECT/ASSET FOLDER`` end to end (client reads and hashes,
  sends chunks with running digests; the server checks each chunk, hashes, writes, and moves the file
  into the blob store; the version is committed) against a uvicorn server (uvloop, httptools).

The file is rewritten with a new first block each round, so every push stores new content (no dedup
shortcut) and both sides read it from the page cache. Prints medians and the ratio
(baseline time / releasewise time; 1.0 means as fast as hashing alone), end to end and without the
CLI's start-up (timed as `releasewise --help` in the same round).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_load import free_port, uvicorn_cmd  # noqa: E402

SEED = """
from releasewise.bootstrap import build_runtime
from releasewise.config import Settings
from releasewise.services import accounts, orgs, projects, tokens
rt = build_runtime(Settings(), migrate_schema=True)
pw = "correct horse battery staple"
accounts.sign_up(rt, username="lead", email="lead@example.org", password=pw, display_name="Lead")
lead = accounts.authenticate_password(rt, login="lead", password=pw, ip="127.0.0.1")
orgs.create_org(rt, lead, name="Bench Lab", slug="bench")
projects.create_project(rt, lead, "bench", name="Big", slug="big")
projects.create_asset(rt, lead, "bench", "big", name="Weights", slug="weights", kind="weights")
print(tokens.create_token(rt, lead, name="bench", scopes=["read", "write"])[1])
"""


def write_file(path: Path, size: int, round_no: int) -> None:
    block = hashlib.shake_256(b"releasewise upload").digest(1 << 20)
    with open(path, "wb") as fh:
        fh.write(round_no.to_bytes(8, "big"))
        left = size - 8
        while left:
            piece = block[: min(left, len(block))]
            fh.write(piece)
            left -= len(piece)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=32)  # the CLI default
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        raise SystemExit("sha256sum (coreutils) is needed")
    work = Path(tempfile.mkdtemp(prefix="rw-up-"))
    server = None
    try:
        data = work / "data"
        data.mkdir()
        env = {**os.environ, "RELEASEWISE_DATA_DIR": str(data), "RELEASEWISE_SECRET_KEY": "bench"}
        env.pop("RELEASEWISE_DATABASE_URL", None)
        token = subprocess.run([sys.executable, "-c", SEED], env=env, capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(uvicorn_cmd("releasewise.asgi:app", port), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.HTTPError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start") from None
                time.sleep(0.2)
        folder = work / "model"
        folder.mkdir()
        target = folder / "weights.bin"
        cli = str(Path(sys.executable).parent / "releasewise")
        push_env = {**os.environ, "RELEASEWISE_URL": f"http://127.0.0.1:{port}", "RELEASEWISE_TOKEN": token,
                    "RELEASEWISE_CLI_CONFIG_DIR": str(work / "cli")}
        size = args.size_mib * 1024 * 1024
        base: list[float] = []
        ours: list[float] = []
        startup: list[float] = []
        for round_no in range(1, args.rounds + 1):
            write_file(target, size, round_no)
            timed(["cat", str(target)])  # warm the page cache for both
            base.append(timed(["sha256sum", str(target)]))
            ours.append(timed([cli, "push", "bench/big/weights", str(folder), "--chunk-mib", str(args.chunk_mib)],
                              push_env))
            startup.append(timed([cli, "--help"], push_env))  # the CLI's own start-up, not ingest
            print(f"round {round_no}: sha256sum {size / base[-1] / 1e9:5.2f} GB/s   "
                  f"releasewise push {size / ours[-1] / 1e9:5.2f} GB/s   ratio {base[-1] / ours[-1]:4.2f}   "
                  f"(CLI start-up {startup[-1]:.2f} s; without it {base[-1] / (ours[-1] - startup[-1]):4.2f})",
                  flush=True)
        blobs = [p for p in (data / "blobs" / "sha256").rglob("*") if p.is_file()]
        assert len(blobs) == args.rounds, "each round must have stored exactly one new blob"
        b, o = statistics.median(base), statistics.median(ours)
        print(f"\nmedians of {args.rounds} rounds; {args.size_mib} MiB file; chunks of {args.chunk_mib} MiB; "
              f"{os.cpu_count()} CPUs")
        print(f"sha256sum (baseline)   {size / b / 1e9:5.2f} GB/s  {b:6.2f} s")
        print(f"releasewise push       {size / o / 1e9:5.2f} GB/s  {o:6.2f} s   {b / o:4.2f} × sha256sum")
        ingest = statistics.median([t - u for t, u in zip(ours, startup, strict=True)])
        print(f"push minus CLI start-up {size / ingest / 1e9:5.2f} GB/s  {ingest:6.2f} s   {b / ingest:4.2f} × sha256sum "
              f"(start-up median {statistics.median(startup):.2f} s: `releasewise --help`)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
