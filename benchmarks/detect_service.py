"""Detection service throughput (1024×1024 JPEGs over HTTP on loopback) beside the library's own detect speed.

Usage:  python benchmarks/detect_service.py [--rounds 5] [--images 8] [--keys 4]

Setup: an organisation with ``--keys`` models, each with a server-side watermark key; ``--images`` photos
are marked and signed by the service (one model), then re-encoded as JPEG q90 — what a platform does to an
upload, which strips the C2PA manifest — so every check has to find the watermark.

Each round measures, back to back on the same files:
* **library** (the baseline): decode the JPEG and ``ImageMark.detect_many`` over the same keys, in process;
* **service**: ``POST /api/v1/detect`` of each file from one client to uvicorn (one worker, uvloop + httptools),
  which also reads the C2PA manifest, checks permissions and the rate limit, decrypts the keys, and logs
  the check.
The report gives images/s for both (median of the rounds) and the service's overhead (1 − service/library).
"""

from __future__ import annotations

import argparse
import os
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

from api_load import free_port, uvicorn_cmd, wait_until_up  # noqa: E402

SEED = """
import io, sys
from pathlib import Path
from PIL import Image
from skimage import data as samples
from releasewise.bootstrap import build_runtime
from releasewise.config import Settings
from releasewise.services import accounts, orgs, projects, provenance, tokens
rt = build_runtime(Settings(), migrate_schema=True)
accounts.sign_up(rt, username="bench", email="bench@example.org", password="bench-password-1", display_name="B")
me = accounts.authenticate_password(rt, login="bench", password="bench-password-1", ip="127.0.0.1")
orgs.create_org(rt, me, name="Bench Lab", slug="bench")
projects.create_project(rt, me, "bench", name="Imagen", slug="imagen", modality="image")
keys, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(keys):
    projects.create_asset(rt, me, "bench", "imagen", name=f"model {i}", kind="weights")
    provenance.rotate_watermark_key(rt, me, "bench", "imagen", f"model-{i}")
photos = [samples.astronaut(), samples.chelsea(), samples.coffee(), samples.rocket()]
out = Path(sys.argv[3])
for n in range(count):
    buf = io.BytesIO()
    Image.fromarray(photos[n % len(photos)]).resize((1024, 1024)).save(buf, "JPEG", quality=95)
    marked = provenance.mark_output(rt, me, "bench", "imagen", f"model-{n % keys}", release="v1", data=buf.getvalue())
    stripped = io.BytesIO()
    Image.open(io.BytesIO(marked.data)).convert("RGB").save(stripped, "JPEG", quality=90)
    (out / f"img{n}.jpg").write_bytes(stripped.getvalue())
print(tokens.create_token(rt, me, name="bench", scopes=["read", "write"])[1])
"""

LIBRARY = """
import sys, time
from pathlib import Path
from releasewise.bootstrap import build_runtime
from releasewise.config import Settings
from releasewise.provenance import ImageMark, media
from releasewise.services.provenance import watermark_key
from releasewise.store.models_provenance import WatermarkKeyRow
from sqlalchemy import select
rt = build_runtime(Settings())
with rt.read() as s:
    keys = [watermark_key(rt, row) for row in s.scalars(select(WatermarkKeyRow).order_by(WatermarkKeyRow.id))]
files = sorted(Path(sys.argv[1]).glob("*.jpg"))
blobs = [f.read_bytes() for f in files]
marks = [ImageMark(k) for k in keys]
ImageMark.detect_many(media.decode_image(blobs[0]), marks)  # warm up, as the service is
found = 0
start = time.perf_counter()
for blob in blobs:
    results = ImageMark.detect_many(media.decode_image(blob), marks)
    found += any(r.detected for r in results)
elapsed = time.perf_counter() - start
print(len(blobs) / elapsed, found)
"""


def service_round(url: str, token: str, blobs: list[bytes]) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    found = 0
    with httpx.Client(timeout=120) as client:
        start = time.perf_counter()
        for blob in blobs:
            response = client.post(f"{url}/api/v1/detect", content=blob, headers=headers)
            response.raise_for_status()
            found += bool(response.json()["watermark"]["detected"])
        elapsed = time.perf_counter() - start
    return len(blobs) / elapsed, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--keys", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rw-detect-bench-") as tmp:
        data_dir, images = Path(tmp) / "data", Path(tmp) / "images"
        data_dir.mkdir()
        images.mkdir()
        env = {**os.environ, "RELEASEWISE_DATA_DIR": str(data_dir), "RELEASEWISE_SECRET_KEY": "bench",
               "RELEASEWISE_DETECTION_CHECKS_PER_MINUTE": "100000", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        env.pop("RELEASEWISE_DATABASE_URL", None)
        print(f"Seeding {args.keys} keys and {args.images} marked, stripped 1024×1024 JPEGs ...", flush=True)
        token = subprocess.run([sys.executable, "-c", SEED, str(args.keys), str(args.images), str(images)], env=env,
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        blobs = [p.read_bytes() for p in sorted(images.glob("*.jpg"))]
        port = free_port()
        proc = subprocess.Popen(uvicorn_cmd("releasewise.asgi:app", port), env=env, cwd=data_dir,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(f"{url}/api/v1/credentials/trust-anchors", proc)
            service_round(url, token, blobs[:2])  # warm up: imports, first connection
            lib, svc = [], []
            for n in range(args.rounds):
                out = subprocess.run([sys.executable, "-c", LIBRARY, str(images)], env=env, capture_output=True,
                                     text=True, check=True).stdout.split()
                lib_rate, lib_found = float(out[0]), int(out[1])
                svc_rate, svc_found = service_round(url, token, blobs)
                lib.append(lib_rate)
                svc.append(svc_rate)
                print(f"round {n + 1}: library {lib_rate:.2f} img/s ({lib_found}/{len(blobs)} found), "
                      f"service {svc_rate:.2f} img/s ({svc_found}/{len(blobs)} found), "
                      f"ratio {svc_rate / lib_rate:.3f}", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ratios = [s / b for s, b in zip(svc, lib, strict=True)]
    print(f"\nlibrary detect (baseline): median {statistics.median(lib):.2f} img/s "
          f"(range {min(lib):.2f}–{max(lib):.2f})")
    print(f"detection service:         median {statistics.median(svc):.2f} img/s "
          f"(range {min(svc):.2f}–{max(svc):.2f})")
    print(f"service / library: median {statistics.median(ratios):.3f} (range {min(ratios):.3f}–{max(ratios):.3f}); "
          f"overhead {100 * (1 - statistics.median(ratios)):.1f}% (target < 20%)")


if __name__ == "__main__":
    main()
