"""Local stand-ins for Snowflake and BigQuery, started by the test session on 127.0.0.1.

fakesnow serves Snowflake's wire protocol and bqemulator BigQuery's REST API, both on DuckDB.
Each lives in a virtualenv of its own, because they pin their own sqlglot and duckdb.
`.ci/run` creates those virtualenvs and names the executables in
SEGWISE_FAKESNOW and SEGWISE_BQEMULATOR. An emulator executes our SQL, but it proves nothing
about Snowflake's or BigQuery's semantics: the golden SQL covers that (docs/support.md).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _executable(variable: str, name: str) -> str:
    path = os.environ.get(variable) or shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} not found: set {variable} to its executable (.ci/run installs it)")
    return path


def _tail(log: str) -> str:
    with open(log, errors="replace") as f:
        return f.read()[-2000:]


def _wait(port: int, proc: subprocess.Popen[bytes], log: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_tail(log)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server not listening on {port} after {seconds}s: {_tail(log)}")


@contextmanager
def _serve(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    workdir = tempfile.mkdtemp(prefix="segwise-emulator-")
    log = os.path.join(workdir, "log")
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    try:
        _wait(port, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def fakesnow() -> Iterator[int]:
    port = _free_port()
    with _serve([_executable("SEGWISE_FAKESNOW", "fakesnow"), "-s", "-p", str(port)], port) as p:
        yield p


@contextmanager
def bqemulator() -> Iterator[int]:
    rest, grpc = _free_port(), _free_port()
    argv = [
        _executable("SEGWISE_BQEMULATOR", "bqemulator"), "start", "--rest-port", str(rest),
        "--grpc-port", str(grpc), "--project", "segwise", "--log-level", "warning",
    ]  # fmt: skip
    env = dict(os.environ)
    if os.environ.get("SEGWISE_BQEMULATOR_HOME"):  # where its DuckDB finds the spatial extension
        env["HOME"] = os.environ["SEGWISE_BQEMULATOR_HOME"]
    with _serve(argv, rest, env) as p:
        yield p
