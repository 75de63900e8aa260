"""A webhook receiver on 127.0.0.1 for delivery tests: it checks each request's signature with
segwise.deliver.verify_signature, records what arrived, and injects faults on request.

Faults, drawn per request from a seeded generator (so a hypothesis example replays exactly):

- `error`: answer 500;
- `throttle`: answer 429 with Retry-After (seconds, or an HTTP date every other time);
- `close`: close the connection without an answer, after reading the body (half of these
  record the batch first: the endpoint got it, the deliverer never hears so) or before;
- `slow`: record the batch, then answer only after `slow_seconds` (past the client's timeout).

`max_failures` caps the failures one batch id meets (later requests for it succeed), so a test
can promise that no batch ever reaches max_attempts; `always` answers every request with that
status (an endpoint that is down).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import random
import socket
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from segwise.deliver import verify_signature


@dataclass(frozen=True)
class Faults:
    error: float = 0.0
    throttle: float = 0.0
    close: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.4
    max_failures: int | None = None
    seed: int = 0


@dataclass
class Route:
    secret: str
    faults: Faults = field(default_factory=Faults)
    always: int | None = None  # answer every request with this status
    delay: float = 0.0  # every request takes this long to answer
    retry_after: str = "1"
    retry_after_dates: float = 0.5  # the share of 429s whose Retry-After is an HTTP date, not seconds


@dataclass(frozen=True)
class Request:
    endpoint: str
    batch_id: str | None
    outcome: str  # ok, error, throttle, close, slow, always, bad-signature, bad-request
    at: float


class WebhookReceiver:
    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.lock = threading.Lock()
        self.rngs = {name: random.Random(route.faults.seed) for name, route in routes.items()}
        self.received: dict[str, list[dict[str, Any]]] = defaultdict(list)  # every change, duplicates too
        self.acked: dict[str, list[str]] = defaultdict(list)  # batch ids answered 2xx
        self.recorded_batches: dict[str, list[str]] = defaultdict(list)  # batch ids recorded (acked or not)
        self.requests: list[Request] = []
        self.failures: Counter[tuple[str, str]] = Counter()
        self.problems: list[str] = []  # bad signatures, malformed requests
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what arrived ------------------------------------------------------------------

    def unique(self, name: str) -> list[dict[str, Any]]:
        """The changes that reached `name`, deduplicated by id, in order of first arrival."""
        seen: set[str] = set()
        out = []
        with self.lock:
            for change in self.received[name]:
                if change["id"] not in seen:
                    seen.add(change["id"])
                    out.append(change)
        return out

    def outcomes(self, name: str) -> Counter[str]:
        with self.lock:
            return Counter(r.outcome for r in self.requests if r.endpoint == name)

    # --- handling ----------------------------------------------------------------------

    def _decide(self, name: str, route: Route, batch_id: str) -> str:
        if route.always is not None:
            return "always"
        faults = route.faults
        draw = self.rngs[name].random()
        outcome = "ok"
        for kind in ("error", "throttle", "close", "slow"):
            chance = getattr(faults, kind)
            if draw < chance:
                outcome = kind
                break
            draw -= chance
        if outcome != "ok":
            key = (name, batch_id)
            if faults.max_failures is not None and self.failures[key] >= faults.max_failures:
                return "ok"
            self.failures[key] += 1
        return outcome

    def _record(self, name: str, document: dict[str, Any]) -> None:
        self.received[name].extend(document["changes"])
        self.recorded_batches[name].append(document["batch"]["id"])

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        name = handler.path.rstrip("/").rsplit("/", 1)[-1]
        route = self.routes.get(name)
        length = int(handler.headers.get("Content-Length") or 0)
        if route is None:
            handler.rfile.read(length)
            self._answer(handler, 404)
            return
        batch_key = handler.headers.get("Idempotency-Key") or ""
        with self.lock:
            outcome = self._decide(name, route, batch_key)
            rng = self.rngs[name]
            early_close = outcome == "close" and rng.random() < 0.3
            record_before_close = outcome == "close" and rng.random() < 0.5
        if early_close:  # mid-request: the body is never read
            self._log(name, batch_key, "close")
            self._drop(handler)
            return
        body = handler.rfile.read(length)
        ok = verify_signature(
            route.secret,
            handler.headers.get("Segwise-Timestamp"),
            body,
            handler.headers.get("Segwise-Signature"),
            now=time.time(),
        )
        if not ok:
            with self.lock:
                self.problems.append(f"{name}: bad signature on batch {batch_key}")
            self._log(name, batch_key, "bad-signature")
            self._answer(handler, 401)
            return
        try:
            document = json.loads(body)
            assert handler.headers.get("Content-Type") == "application/json"
            assert document["schema"] == "segwise.changes.v1" and document["endpoint"] == name
            assert document["batch"]["id"] == batch_key and document["batch"]["size"] == len(document["changes"])
        except (ValueError, KeyError, AssertionError) as exc:
            with self.lock:
                self.problems.append(f"{name}: malformed request: {exc!r}")
            self._log(name, batch_key, "bad-request")
            self._answer(handler, 400)
            return
        if route.delay:
            time.sleep(route.delay)
        self._log(name, batch_key, outcome)
        if outcome == "ok":
            with self.lock:
                self._record(name, document)
                self.acked[name].append(batch_key)
            self._answer(handler, 200)
        elif outcome == "always":
            self._answer(handler, route.always or 500)
        elif outcome == "error":
            self._answer(handler, 500)
        elif outcome == "throttle":
            with self.lock:
                as_date = rng.random() < route.retry_after_dates
            value = email.utils.formatdate(time.time() + 1, usegmt=True) if as_date else route.retry_after
            self._answer(handler, 429, {"Retry-After": value})
        elif outcome == "close":
            if record_before_close:
                with self.lock:
                    self._record(name, document)
            self._drop(handler)
        elif outcome == "slow":
            with self.lock:
                self._record(name, document)
            time.sleep(route.faults.slow_seconds)
            self._answer(handler, 200)

    def _log(self, name: str, batch_id: str, outcome: str) -> None:
        with self.lock:
            self.requests.append(Request(name, batch_id or None, outcome, time.monotonic()))

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps({"status": status}).encode()
        try:
            handler.send_response(status)
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
        except OSError:  # the client gave up (a timeout): nothing to answer
            handler.close_connection = True

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
