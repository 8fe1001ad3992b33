"""What re-checking access mid-download costs: the same file from two releasewise servers, interleaved.

Usage:  python benchmarks/download_recheck.py [--rounds 7] [--size-mib 1024] [--recheck-mib 64]

Both servers run the same code on the same data folder (the blob is the same inode, so the same
page cache); one with ``RELEASEWISE_DOWNLOAD_RECHECK_MIB=0`` (access checked once, when the request
starts), one with the re-check on. Each round downloads the file once from each, in alternating
order, with curl; the script prints every round's speeds and the median of the per-round ratios
(guarded / unguarded), so machine noise hits both alike. Needs curl.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_load import free_port, uvicorn_cmd  # noqa: E402
from download import SEED, curl_speed, make_files, wait_http  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--recheck-mib", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed")
    work = Path(tempfile.mkdtemp(prefix="rw-recheck-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        one, many, data = work / "one", work / "many", work / "data"
        make_files(one, [args.size_mib * 1024 * 1024], "big")
        make_files(many, [1024], "part")
        data.mkdir()
        env = {**os.environ, "RELEASEWISE_DATA_DIR": str(data), "RELEASEWISE_SECRET_KEY": "bench",
               "PYTHONPATH": str(ROOT / "src")}
        env.pop("RELEASEWISE_DATABASE_URL", None)
        token = subprocess.run([sys.executable, "-c", SEED, str(one), str(many)], env=env, capture_output=True,
                               text=True, check=True).stdout.strip().splitlines()[-1]
        ports = {}
        for name, recheck in (("once", 0), ("guarded", args.recheck_mib)):
            port = free_port()
            proc = subprocess.Popen(uvicorn_cmd("releasewise.asgi:app", port),
                                    env={**env, "RELEASEWISE_DOWNLOAD_RECHECK_MIB": str(recheck)},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(proc)
            wait_http(f"http://127.0.0.1:{port}/login", proc)
            ports[name] = port
        url = "http://127.0.0.1:{}/bench/big-one/resolve/main/big-00.bin"
        curl_speed(url.format(ports["once"]), token)  # warm the page cache
        ratios = []
        for i in range(args.rounds):
            order = ("once", "guarded") if i % 2 == 0 else ("guarded", "once")
            speed = {name: curl_speed(url.format(ports[name]), token) / 2**20 for name in order}
            ratios.append(speed["guarded"] / speed["once"])
            print(f"round {i + 1}: checked once {speed['once']:8.0f} MiB/s · re-checked every {args.recheck_mib} MiB "
                  f"{speed['guarded']:8.0f} MiB/s · ratio {ratios[-1]:.3f}", flush=True)
        print(f"median ratio (re-checked / checked once) over {args.rounds} rounds: {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
