"""A small webhook receiver for `segwise deliver`, written to be copied (docs/delivery.md,
"Wiring a real endpoint"). For each POST to /hooks/<endpoint> it:

1. checks the signature on the raw body (401 when it is wrong or more than 5 minutes old);
2. checks the document is `segwise.changes.v1` (400 otherwise: retrying cannot fix it);
3. keeps each change whose `id` it has not seen for that endpoint, and drops repeats:
   delivery is at least once, so a batch may come again, and the id makes it exactly once;
4. answers 200 once the new changes are stored (here: one JSON line each in `out`).

With `flaky`, it fails a share of requests on purpose, drawn from a seeded generator so a run
repeats exactly: half answer 429 with Retry-After without storing the batch (slow down), half
store the batch and then answer 503, as if the answer were lost on its way back. The deliverer
retries both; the second kind sends changes the receiver already has, which step 3 drops. A
batch fails at most `max_failures` times, so no batch reaches the deliverer's max_attempts.

    SEGWISE_DEMO_WEBHOOK_SECRET=... python -m segwise_demo.receiver --port 8765 [--flaky 0.2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from segwise.deliver import verify_signature

SCHEMA = "segwise.changes.v1"


class Receiver:
    """The server and what it stored. `stats` counts (endpoint, outcome) per request; outcomes
    are ok, throttled (429), lost-answer (503), bad-signature (401), bad-request (400)."""

    def __init__(
        self,
        secret: str,
        *,
        port: int = 8765,
        out: Path | None = None,
        flaky: float = 0.0,
        seed: int = 0,
        max_failures: int = 3,
    ) -> None:
        self.secret = secret
        self.out = out
        self.flaky = flaky
        self.max_failures = max_failures
        self.random = random.Random(seed)
        self.lock = threading.Lock()  # ThreadingHTTPServer answers each connection in a thread
        self.seen: dict[str, set[str]] = {}  # endpoint -> change ids stored (a unique index, in a real receiver)
        self.stored: list[dict[str, Any]] = []  # each new change, with its endpoint
        self.stats: Counter[tuple[str, str]] = Counter()
        self.repeats: Counter[str] = Counter()  # per endpoint: changes that arrived again, dropped
        self.failures: Counter[str] = Counter()  # per batch id: failures injected
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("")  # this run's changes only
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the summary says what happened

        # Binding raises OSError (address in use) here, before any thread starts.
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])  # the port bound when `port` is 0
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, endpoint: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{endpoint}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        endpoint = request.path.rstrip("/").rsplit("/", 1)[-1]  # /hooks/<endpoint>: one URL per endpoint
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))  # the raw bytes that were signed
        if not verify_signature(
            self.secret,
            request.headers.get("Segwise-Timestamp"),
            body,
            request.headers.get("Segwise-Signature"),
            now=time.time(),
        ):
            self._answer(request, endpoint, "bad-signature", 401)
            return
        try:
            document = json.loads(body)
            changes, batch_id = document["changes"], str(document["batch"]["id"])
            # A breaking change would be v2; fields added within v1 are ignored.
            valid = (
                document["schema"] == SCHEMA
                and document["endpoint"] == endpoint
                and isinstance(changes, list)
                and all(isinstance(change, dict) and isinstance(change.get("id"), str) for change in changes)
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            self._answer(request, endpoint, "bad-request", 400)
            return
        fault = self._fault(batch_id)
        if fault == "throttled":
            self._answer(request, endpoint, fault, 429, {"Retry-After": "1"})
            return
        self._store(endpoint, changes)
        if fault == "lost-answer":
            self._answer(request, endpoint, fault, 503)
            return
        self._answer(request, endpoint, "ok", 200)

    def _fault(self, batch_id: str) -> str | None:
        with self.lock:
            if self.flaky <= 0 or self.random.random() >= self.flaky or self.failures[batch_id] >= self.max_failures:
                return None
            self.failures[batch_id] += 1
            return "throttled" if self.random.random() < 0.5 else "lost-answer"

    def _store(self, endpoint: str, changes: list[dict[str, Any]]) -> None:
        """Keep the changes not seen before; unknown fields are kept too (v1 may add some)."""
        with self.lock:
            seen = self.seen.setdefault(endpoint, set())
            new = [{"endpoint": endpoint, **change} for change in changes if change["id"] not in seen]
            seen.update(change["id"] for change in new)
            self.repeats[endpoint] += len(changes) - len(new)
            self.stored.extend(new)
            if self.out is not None and new:
                with self.out.open("a", encoding="utf-8") as file:
                    file.writelines(json.dumps(change) + "\n" for change in new)

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        endpoint: str,
        outcome: str,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self.lock:
            self.stats[endpoint, outcome] += 1
        payload = json.dumps({"status": status}).encode()
        try:
            request.send_response(status)
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except OSError:  # the client gave up (its timeout): it will send the batch again
            request.close_connection = True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A webhook receiver for segwise deliver, on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret-env", default="SEGWISE_DEMO_WEBHOOK_SECRET", help="the variable holding the secret")
    parser.add_argument("--out", type=Path, default=Path("received.jsonl"), help="one JSON line per new change")
    parser.add_argument("--flaky", type=float, default=0.0, help="the share of requests failed on purpose")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        parser.error(f"set {args.secret_env} to the secret segwise deliver signs with")
    with Receiver(secret, port=args.port, out=args.out, flaky=args.flaky, seed=args.seed) as receiver:
        print(f"listening on {receiver.url('<endpoint>')}, writing {args.out}; Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            receiver.thread.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
