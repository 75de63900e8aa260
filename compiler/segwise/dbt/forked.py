"""Work in a forked child process, its result sent back through a pipe.

Forking rather than a process pool: the child starts with the parent's memory, so a large
sqlglot tree reaches it without pickling, and each child gets its own copy-on-write copy to
rewrite.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection

from segwise.errors import CompileError


def can_fork() -> bool:
    """Linux only: macOS offers fork, but system frameworks loaded before it can crash the
    child, which is why Python's default there is spawn."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class Forked:
    """`work()` running in a forked child from construction on; `result()` waits for it."""

    def __init__(self, work: Callable[[], str], what: str):
        self._what = what  # for errors: "writing ..."
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(send, work), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> str:
        try:
            ok, value = self._receive.recv()
        except EOFError:
            ok, value = False, f"the process ended with exit code {self._process.exitcode}"
        self._process.join()
        if not ok:
            raise CompileError(f"{self._what} failed in a worker process: {value}")
        text: str = value
        return text

    def stop(self) -> None:
        """Ends the child if it still runs (the parent failed first) and frees the pipe."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()


def _run(send: Connection, work: Callable[[], str]) -> None:
    try:
        send.send((True, work()))
    except BaseException:
        send.send((False, traceback.format_exc()))
    finally:
        send.close()
