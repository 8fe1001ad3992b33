"""A throwaway PostgreSQL cluster for tests, or the one named in the environment.

``RELEASEWISE_TEST_POSTGRES_URL`` (set by .ci/run) wins; otherwise the tests
start a private cluster on a free loopback port with the machine's initdb, as
the ``postgres`` user when running as root (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    url: str
    data_dir: Path | None = None
    pg_ctl: str | None = None
    run_as: list[str] | None = None

    def stop(self) -> None:
        if self.data_dir and self.pg_ctl:
            subprocess.run([*(self.run_as or []), self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"],
                           capture_output=True, check=False)
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def start_throwaway() -> tuple[PostgresServer | None, str]:
    """Start a cluster; return it, or None with the reason it could not start."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None, "PostgreSQL is not installed (no initdb found); apt-get install postgresql"
    root = Path(tempfile.mkdtemp(prefix="rw-pg-"))
    data = root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return None, "running as root without runuser; cannot start PostgreSQL as the postgres user"
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, user="postgres")
        os.chmod(root, 0o755)
    port = _free_port()
    init = subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                           "--no-sync", "-E", "UTF8"], capture_output=True, text=True, check=False)
    if init.returncode != 0:
        return None, f"initdb failed: {init.stderr.strip()[:300]}"
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                            str(root / "log"), "-w", "start"], capture_output=True, text=True, check=False)
    if start.returncode != 0:
        return None, f"pg_ctl start failed: {start.stderr.strip()[:300]}"
    server = PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data,
                            str(bin_dir / "pg_ctl"), run_as)
    deadline = time.time() + 10
    import psycopg

    while True:
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE releasewise_test")
            break
        except psycopg.OperationalError:
            if time.time() > deadline:
                server.stop()
                return None, "PostgreSQL did not accept connections within 10 s"
            time.sleep(0.1)
    server.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/releasewise_test"
    return server, ""
