"""A throwaway PostgreSQL server for the test session (initdb and pg_ctl in a temporary directory).

`SEGWISE_PG_DSN` points the tests at an existing server instead. With `SEGWISE_REQUIRE_ENGINES=1`
(set by .ci/run) a missing server is an error, never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[4].split(".")])
    return found[-1] if found else None


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server as the `postgres` user when we are root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a server on 127.0.0.1, yield its DSN, stop and delete it afterwards."""
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install -y postgresql)")
    workdir = tempfile.mkdtemp(prefix="segwise-pg-")
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    data = os.path.join(workdir, "data")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [
                f"{bindir}/initdb",
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    opts = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c timezone=UTC -c max_connections=50"
    )
    subprocess.run(
        _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(workdir, "log"), "-w", "-o", opts, "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
