"""Who holds an endpoint's lease: `host:pid:token`.

A lease expires on its own (`lease_expires_at`). A holder on this host whose process is gone
(killed, crashed) has certainly stopped sending, so its lease may be taken at once instead of
waiting for the expiry; holders on other hosts are only ever outlived.
"""

from __future__ import annotations

import os
import secrets
import socket


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def _parse(holder: str) -> tuple[str, int] | None:
    parts = holder.split(":")
    if len(parts) < 3:
        return None
    try:
        return ":".join(parts[:-2]), int(parts[-2])
    except ValueError:
        return None


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live process here (a zombie is not: it runs no code any more)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's: alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()
        return not state or state[0] not in ("Z", "X")
    except OSError:
        return True  # no /proc: os.kill said it exists


def dead_here(holder: str | None) -> bool:
    """True when `holder` ran on this host and its process no longer exists."""
    if not holder:
        return False
    parsed = _parse(holder)
    if parsed is None:
        return False
    host, pid = parsed
    return host == socket.gethostname() and pid != os.getpid() and not process_alive(pid)
