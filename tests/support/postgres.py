"""Find a PostgreSQL server for the PostgreSQL test leg.

Order: ``TEST_DATABASE_URL`` (CI sets it after starting Debian's cluster); else a throwaway server started
from the installed binaries (``initdb``/``pg_ctl``) in a temporary directory, as the ``postgres`` user when
running as root (PostgreSQL refuses to run its server as root). ``None`` when neither is possible.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    url: str  # a SQLAlchemy URL to a database the tests may use to CREATE/DROP databases
    stop: callable = lambda: None  # type: ignore[assignment]


def _binaries() -> Path | None:
    for candidate in [shutil.which("initdb")] + sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate).parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_throwaway() -> tuple[PostgresServer | None, str]:
    bindir = _binaries()
    if bindir is None:
        return None, "no PostgreSQL binaries (initdb) found"
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="microcred-pg-"))
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run the server"
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)

    result = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-sync")
    if result.returncode != 0:
        return None, f"initdb failed: {result.stderr.strip()[:300]}"
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " \
              "-c full_page_writes=off -c max_connections=100"
    result = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
    if result.returncode != 0:
        return None, f"pg_ctl start failed: {result.stderr.strip()[:300]}"

    def stop() -> None:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)

    return PostgresServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop), ""


def find_server() -> tuple[PostgresServer | None, str]:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return PostgresServer(url), ""
    return start_throwaway()
