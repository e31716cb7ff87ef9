"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` package, `initdb`
into a temporary folder, listening on a socket there and on a free port of 127.0.0.1,
stopped at the end. Never a server that happens to be running; never a skip: without the
package the tests fail and say what to install.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
"""PostgreSQL refuses to run as root; as root the server runs as this user (Debian's)."""


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: the tests need Debian's postgresql package "
                           "(apt-get install postgresql; .ci/run installs it)")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    folder: Path

    def url(self, database: str = "postgres", user: str = "statusgen", password: str = "statusgen-test") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user() -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


@contextmanager
def running_server() -> Iterator[Server]:
    bin_dir = binaries()
    folder = Path(tempfile.mkdtemp(prefix="statusgen-pg-"))
    run_as = _as_server_user()
    data = folder / "data"
    password_file = folder / "password"
    password_file.write_text("statusgen-test\n")
    if run_as:
        os.chown(folder, run_as["user"], run_as["group"])  # type: ignore[arg-type]
        os.chown(password_file, run_as["user"], run_as["group"])  # type: ignore[arg-type]
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "statusgen", "--pwfile", password_file, "-A",
                    "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"], check=True,
                   capture_output=True, cwd=folder, **run_as)  # type: ignore[arg-type]
    port = free_port()
    log = folder / "server.log"
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                    "start"], check=True, capture_output=True, cwd=folder, **run_as)  # type: ignore[arg-type]
    try:
        yield Server(port, folder)
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                       cwd=folder, check=False, **run_as)  # type: ignore[arg-type]
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    started = time.perf_counter()
    with running_server() as server:
        import psycopg
        with psycopg.connect(server.url()) as db:
            print(db.execute("select version()").fetchone(), server.url(), f"{time.perf_counter() - started:.2f} s")
