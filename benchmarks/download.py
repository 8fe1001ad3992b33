"""Gated downloads against nginx serving the same file from the same disk, and HEAD …/resolve/… per second.

Usage:  python benchmarks/download.py [--rounds 3] [--size-mib 1024] [--files 20] [--seconds 8]

Every round measures, back to back on loopback (so noise hits all alike):

1. single-stream download of one file with curl:
   * nginx, static file, sendfile on (baseline);
   * releasewise under uvicorn (uvloop, httptools): token → grant check → download log → file (4 MiB chunks);
   * nginx in front of releasewise: the app does token, grant check and log, then answers
     ``X-Accel-Redirect`` and nginx sends the bytes (``RELEASEWISE_ACCEL_REDIRECT_PREFIX``);
2. ``huggingface_hub.snapshot_download`` of a 20-file repo (same total size) from both releasewise setups,
   beside two baselines: curl fetching the same 20 files one after another from nginx, and the same
   ``snapshot_download`` against nginx serving static copies of the three Hub answers it needs (repo info,
   tree, files with ``X-Repo-Commit``) — the same client, so the ratio is the server's share;
3. authorised ``HEAD /{repo}/resolve/main/{file}`` requests per second with ApacheBench (``ab -k``, 32
   connections; wrk stalls on HEAD responses),
   beside a bare Starlette endpoint (``benchmarks/bare_starlette.py``) in the same run.

The blob served by releasewise is a hard link of nginx's file: same inode, same disk, same page cache.
Needs nginx, curl and ab (apt-get install -y nginx curl apache2-utils). Prints medians and ratios.
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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_load import free_port, uvicorn_cmd  # noqa: E402

SEED = """
import hashlib, os, sys
from pathlib import Path
from sqlalchemy import update
from releasewise.bootstrap import build_runtime
from releasewise.config import Settings
from releasewise.services import access, accounts, orgs, projects, registry, tokens
from releasewise.store.models import Asset

rt = build_runtime(Settings(), migrate_schema=True)
pw = "correct horse battery staple"
for name in ("lead", "reader"):
    accounts.sign_up(rt, username=name, email=f"{name}@example.org", password=pw, display_name=name)
lead = accounts.authenticate_password(rt, login="lead", password=pw, ip="127.0.0.1")
reader = accounts.authenticate_password(rt, login="reader", password=pw, ip="127.0.0.1")
orgs.create_org(rt, lead, name="Bench Lab", slug="bench")
projects.create_project(rt, lead, "bench", name="Big", slug="big")
store = registry.blobs(rt)
for asset, folder in (("one", sys.argv[1]), ("many", sys.argv[2])):
    projects.create_asset(rt, lead, "bench", "big", name=asset, slug=asset, kind="weights")
    files = []
    for path in sorted(Path(folder).iterdir()):
        digest = hashlib.file_digest(open(path, "rb"), "sha256").hexdigest()
        target = store.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(path, target)  # the same inode nginx serves
        files.append({"path": path.name, "size": path.stat().st_size, "sha256": digest})
    assert registry.start_upload(rt, lead, "bench", "big", asset, files=files).status == "complete"
with rt.write() as s:
    s.execute(update(Asset).values(current_tier="vetted_researchers", high_water_tier="vetted_researchers"))
access.configure_policy(rt, lead, "bench", "big", approval_mode="automatic")
for asset in ("one", "many"):
    access.submit_request(rt, reader, "bench", "big", asset, intended_use="bench", institution="bench")
print(tokens.create_token(rt, reader, name="bench", scopes=["read"])[1])
"""

NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
user root;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  types {{ }}
  default_type application/octet-stream;
  # Per-file ETags = SHA-256, as the Hub sends (nginx's own "mtime-size" ETags collide for same-sized files
  # written in the same second, and huggingface_hub would then fetch one blob and link it 20 times).
  map_hash_bucket_size 256;
  map $uri $hub_etag {{
{etag_map}
  }}
  server {{
    listen 127.0.0.1:{static_port};
    location /files/ {{ alias {files}/; }}
  }}
  server {{
    # The same three Hub answers snapshot_download needs, as static files: the baseline for the same client.
    listen 127.0.0.1:{hub_port};
    location = /api/models/bench/big-many/revision/main {{ default_type application/json; alias {work}/hub/info.json; }}
    location ~ ^/api/models/bench/big-many/tree/ {{ default_type application/json; root {work}/hub; try_files /tree.json =404; }}
    location ~ ^/bench/big-many/resolve/[^/]+/(?<name>[^/]+)$ {{
      alias {files}/$name;
      etag off;
      add_header ETag $hub_etag;
      add_header X-Repo-Commit {commit};
    }}
  }}
  server {{
    listen 127.0.0.1:{front_port};
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_set_header Host $host;
      proxy_buffering off;
    }}
    location /_blobs/ {{
      internal;
      alias {blobs}/;
      etag off;
      add_header ETag $upstream_http_etag;
      add_header X-Repo-Commit $upstream_http_x_repo_commit;
      add_header X-Linked-Etag $upstream_http_x_linked_etag;
      add_header X-Linked-Size $upstream_http_x_linked_size;
    }}
  }}
}}
"""

def make_files(folder: Path, sizes: list[int], prefix: str) -> None:
    folder.mkdir(parents=True)
    block = hashlib.shake_256(b"releasewise").digest(1 << 20)
    for i, size in enumerate(sizes):
        with open(folder / f"{prefix}-{i:02d}.bin", "wb") as fh:
            left = size
            counter = i.to_bytes(4, "big")
            while left:
                piece = (counter + block)[: min(left, 1 << 20)]
                fh.write(piece)
                left -= len(piece)
                counter = (int.from_bytes(counter, "big") + 1).to_bytes(4, "big")
        os.sync()


def curl_speed(url: str, token: str | None = None) -> float:
    cmd = ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{speed_download}"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    return float(out)


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: server exited early ({proc.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def head_rps(url: str, seconds: int, token: str | None) -> float:
    """HEAD requests per second with ApacheBench (wrk waits for a body after HEAD and stalls)."""
    cmd = ["ab", "-q", "-k", "-i", "-c", "32", "-n", "10000000", "-t", str(seconds)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Non-2xx responses:"):
            raise SystemExit(f"failed responses during the run:\n{out}")
        if line.startswith("Requests per second:"):
            return float(line.split()[3])
    raise SystemExit(out)


def snapshot_seconds(endpoint: str, token: str, cache: Path, expected_bytes: int) -> float:
    code = ("import sys, time\nfrom huggingface_hub import snapshot_download\nt = time.perf_counter()\n"
            f"snapshot_download('bench/big-many', endpoint='{endpoint}', token='{token}', cache_dir=sys.argv[1])\n"
            "import os\n"
            "print(sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(sys.argv[1]) for f in fs if 'blobs' in d))\n"
            "print(time.perf_counter() - t)\n")
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True, text=True, check=True,
                         env=env).stdout
    shutil.rmtree(cache, ignore_errors=True)
    stored, seconds = out.strip().splitlines()[-2:]
    if int(stored) != expected_bytes:
        raise SystemExit(f"snapshot_download from {endpoint} stored {stored} bytes, expected {expected_bytes}")
    return float(seconds)


def curl_many_seconds(base: str, names: list[str]) -> float:
    start = time.perf_counter()
    for name in names:
        curl_speed(f"{base}/{name}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workdir", default="", help="where to put the test files (default: a temp dir)")
    args = parser.parse_args()
    for tool in ("nginx", "curl", "ab"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: apt-get install -y nginx curl apache2-utils")

    work = Path(tempfile.mkdtemp(prefix="rw-dl-", dir=args.workdir or None))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        size = args.size_mib * 1024 * 1024
        one, many, data = work / "one", work / "many", work / "data"
        make_files(one, [size], "big")
        make_files(many, [size // args.files] * args.files, "part")
        data.mkdir()
        env = {**os.environ, "RELEASEWISE_DATA_DIR": str(data), "RELEASEWISE_SECRET_KEY": "bench"}
        env.pop("RELEASEWISE_DATABASE_URL", None)
        token = subprocess.run([sys.executable, "-c", SEED, str(one), str(many)], env=env, capture_output=True,
                               text=True, check=True).stdout.strip().splitlines()[-1]
        files_dir = work / "nginx-files"
        files_dir.mkdir()
        for folder in (one, many):
            for path in folder.iterdir():
                os.link(path, files_dir / path.name)

        app_port, accel_port = free_port(), free_port()
        static_port, front_port = free_port(), free_port()
        direct = subprocess.Popen(uvicorn_cmd("releasewise.asgi:app", app_port), env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(direct)
        accel = subprocess.Popen(uvicorn_cmd("releasewise.asgi:app", accel_port),
                                 env={**env, "RELEASEWISE_ACCEL_REDIRECT_PREFIX": "/_blobs"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(accel)
        wait_http(f"http://127.0.0.1:{app_port}/login", direct)
        auth = {"Authorization": f"Bearer {token}"}
        info = httpx.get(f"http://127.0.0.1:{app_port}/api/models/bench/big-many/revision/main", headers=auth)
        commit = info.json()["sha"]
        tree = httpx.get(f"http://127.0.0.1:{app_port}/api/models/bench/big-many/tree/{commit}?recursive=true",
                         headers=auth)
        (work / "hub").mkdir()
        (work / "hub" / "info.json").write_bytes(info.content)
        (work / "hub" / "tree.json").write_bytes(tree.content)
        hub_port = free_port()
        etag_map = "\n".join(f'    "/bench/big-many/resolve/{commit}/{entry["path"]}" "\\"{entry["lfs"]["oid"]}\\"";'
                             for entry in tree.json() if entry["type"] == "file")
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=work, static_port=static_port, front_port=front_port,
                                          app_port=accel_port, files=files_dir, blobs=data / "blobs",
                                          hub_port=hub_port, commit=commit, etag_map=etag_map))
        check = subprocess.run(["nginx", "-t", "-p", str(work), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"nginx rejects the generated config:\n{check.stderr}")
        nginx = subprocess.Popen(["nginx", "-p", str(work), "-c", str(conf)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        procs.append(nginx)
        bare_port = free_port()
        bare = subprocess.Popen(uvicorn_cmd("bare_starlette:app", bare_port),
                                env={**os.environ, "PYTHONPATH": str(ROOT / "benchmarks")},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(bare)
        wait_http(f"http://127.0.0.1:{app_port}/login", direct)
        wait_http(f"http://127.0.0.1:{accel_port}/login", accel)
        try:
            wait_http(f"http://127.0.0.1:{front_port}/login", nginx)
        except SystemExit:
            print((work / "nginx-error.log").read_text() if (work / "nginx-error.log").exists() else "no nginx log")
            raise
        wait_http(f"http://127.0.0.1:{bare_port}/api/v1/projects", bare)

        big = "big-00.bin"
        resolve = f"/bench/big-one/resolve/main/{big}"
        check = httpx.head(f"http://127.0.0.1:{front_port}{resolve}", headers={"Authorization": f"Bearer {token}"})
        assert check.status_code == 200 and check.headers.get("x-repo-commit"), check.headers
        many_names = sorted(p.name for p in many.iterdir())
        many_bytes = sum(p.stat().st_size for p in many.iterdir())

        results: dict[str, list[float]] = {}

        def note(name: str, value: float, unit: str) -> None:
            results.setdefault(name, []).append(value)
            print(f"  {name:58s} {value:10.2f} {unit}", flush=True)

        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no}")
            note("1 file: nginx static (baseline)", curl_speed(f"http://127.0.0.1:{static_port}/files/{big}") / 1e9,
                 "GB/s")
            note("1 file: releasewise, uvicorn",
                 curl_speed(f"http://127.0.0.1:{app_port}{resolve}", token) / 1e9, "GB/s")
            note("1 file: releasewise + nginx X-Accel-Redirect",
                 curl_speed(f"http://127.0.0.1:{front_port}{resolve}", token) / 1e9, "GB/s")
            note(f"{args.files} files: curl from nginx, one by one (baseline)",
                 curl_many_seconds(f"http://127.0.0.1:{static_port}/files", many_names), "s")
            note(f"{args.files} files: snapshot_download, nginx static Hub files (baseline)",
                 snapshot_seconds(f"http://127.0.0.1:{hub_port}", token, work / "hf-cache", many_bytes), "s")
            note(f"{args.files} files: snapshot_download, releasewise uvicorn",
                 snapshot_seconds(f"http://127.0.0.1:{app_port}", token, work / "hf-cache", many_bytes), "s")
            note(f"{args.files} files: snapshot_download, releasewise + nginx",
                 snapshot_seconds(f"http://127.0.0.1:{front_port}", token, work / "hf-cache", many_bytes), "s")
            note("HEAD: bare Starlette endpoint (baseline)",
                 head_rps(f"http://127.0.0.1:{bare_port}/api/v1/projects", args.seconds, None), "req/s")
            note("HEAD resolve: releasewise, uvicorn (token+grant check)",
                 head_rps(f"http://127.0.0.1:{app_port}{resolve}", args.seconds, token), "req/s")

        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"\nmedians of {args.rounds} rounds; {args.size_mib} MiB file; {os.cpu_count()} CPUs; loopback")
        base_gbs = med["1 file: nginx static (baseline)"]
        for name in ("1 file: nginx static (baseline)", "1 file: releasewise, uvicorn",
                     "1 file: releasewise + nginx X-Accel-Redirect"):
            print(f"{name:58s} {med[name]:7.2f} GB/s   {med[name] / base_gbs:5.2f} × nginx")
        for baseline in ("curl from nginx, one by one (baseline)", "snapshot_download, nginx static Hub files (baseline)"):
            base_s = med[f"{args.files} files: {baseline}"]
            print(f"against: {baseline}")
            for name in [k for k in med if k.startswith(f"{args.files} files")]:
                print(f"  {name:56s} {med[name]:7.2f} s      {base_s / med[name]:5.2f} × baseline throughput")
        base_rps = med["HEAD: bare Starlette endpoint (baseline)"]
        for name in [k for k in med if k.startswith("HEAD")]:  # noqa: B007
            print(f"{name:58s} {med[name]:7.0f} /s     {med[name] / base_rps:5.2f} × bare Starlette")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
