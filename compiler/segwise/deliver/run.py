"""`segwise deliver`: the project's segment changes to the endpoints of deliveries.yml.

For each endpoint, in the order of the file: take its lease (or skip it, saying who holds it),
read the changes after its cursor in batches, POST each batch, and move the cursor past the
batch after a 2xx (or after recording it as dead letters once `max_attempts` failed). A
process killed at any point leaves the cursor at the last acknowledged batch; the next run
starts there, so a batch may arrive twice (at-least-once) but none is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from segwise.config import Project
from segwise.deliver.changes import ChangeKey
from segwise.deliver.config import DeliveriesConfig, Endpoint, load_deliveries
from segwise.deliver.errors import DeliveryError
from segwise.deliver.lease import new_holder
from segwise.deliver.payload import SCHEMA, Batch
from segwise.deliver.sender import Backoff, Sender
from segwise.deliver.signing import Secret
from segwise.deliver.store import DeliveryStore, open_store
from segwise.errors import closest_names, quoted_names
from segwise.rules.values import format_iso_z as iso_z
from segwise.warehouse.profiles import ConnectionProfile

logger = logging.getLogger("segwise.deliver")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Tuning:
    """Knobs for operators and tests; the defaults suit production."""

    backoff: Backoff = field(default_factory=Backoff)
    lease_seconds: float = 120.0  # a lease lasts this long unless renewed (at least 2 x timeout + 5 s)
    lock_wait: float = 30.0  # DuckDB: how long to wait for another process's hold on the file


@dataclass
class EndpointReport:
    name: str
    url: str  # without query or fragment
    sent: int = 0  # changes acknowledged with a 2xx
    batches: int = 0  # batches acknowledged (dry run: the batches that would be sent)
    retries: int = 0  # attempts after the first, over all batches
    dead_lettered: int = 0  # changes given up on after max_attempts
    skipped: str | None = None  # why the endpoint was skipped (its lease is held elsewhere)
    error: str | None = None  # why delivery to it stopped early
    cursor: ChangeKey | None = None  # where its cursor is now
    pending: int | None = None  # dry run: the changes that would be sent
    first_payload: dict[str, Any] | None = None  # dry run: the first batch's JSON

    def summary(self, dry_run: bool = False) -> str:
        if self.skipped:
            return f"{self.name}: skipped: {self.skipped}"
        if dry_run:
            return (
                f"{self.name}: would send {_count(self.pending or 0, 'change')} in {_count(self.batches, 'batch')} "
                f"to {self.url} (cursor: {_cursor(self.cursor)})"
            )
        parts = [f"{_count(self.sent, 'change')} delivered in {_count(self.batches, 'batch')}"]
        if self.retries:
            parts.append(_count(self.retries, "retry"))
        if self.dead_lettered:
            parts.append(f"{_count(self.dead_lettered, 'change')} dead-lettered")
        text = f"{self.name}: {', '.join(parts)}; cursor: {_cursor(self.cursor)}"
        return f"{text}; stopped: {self.error}" if self.error else text


@dataclass
class DeliveryReport:
    dry_run: bool
    endpoints: list[EndpointReport]

    @property
    def ok(self) -> bool:
        """No endpoint stopped on an error (skipped ones are fine: another deliverer has them)."""
        return all(report.error is None for report in self.endpoints)

    @property
    def sent(self) -> int:
        return sum(report.sent for report in self.endpoints)

    @property
    def dead_lettered(self) -> int:
        return sum(report.dead_lettered for report in self.endpoints)


def _count(n: int, word: str) -> str:
    plural = {"batch": "batches", "retry": "retries"}.get(word, word + "s")
    return f"{n} {word if n == 1 else plural}"


def _cursor(key: ChangeKey | None) -> str:
    if key is None:
        return "at the start of the log"
    changed_at, segment, user_id, change = key
    return f"{iso_z(changed_at)} {segment} {user_id} {change}"


def _instant(clock: Callable[[], float]) -> datetime:
    return datetime.fromtimestamp(clock(), UTC).replace(tzinfo=None)


def _chosen(config: DeliveriesConfig, names: Sequence[str] | None) -> list[Endpoint]:
    if not names:
        return list(config.endpoints)
    known = {e.name: e for e in config.endpoints}
    for name in names:
        if name not in known:
            near = closest_names(name, known)
            hint = f"; did you mean {quoted_names(near)}?" if near else f"; endpoints: {', '.join(known)}"
            raise DeliveryError(f"no endpoint {name!r} in {config.path}{hint}")
    return [e for e in config.endpoints if e.name in set(names)]


def _secrets(endpoints: Sequence[Endpoint], env: Mapping[str, str], path: str) -> dict[str, Secret]:
    """Each endpoint's secret from its variable; every unset one is reported (by name only)."""
    secrets: dict[str, Secret] = {}
    missing: list[str] = []
    for endpoint in endpoints:
        value = env.get(endpoint.secret_env)
        if not value:
            where = endpoint.secret_location
            at = f"{where.file}:{where.line}:{where.col}: " if where else f"{path}: "
            missing.append(
                f"{at}endpoint '{endpoint.name}': the environment variable {endpoint.secret_env} "
                "(secret_env) is not set or empty"
            )
        else:
            secrets[endpoint.name] = Secret(value)
    if missing:
        raise DeliveryError("\n".join([*missing, "export each secret where `segwise deliver` runs; nothing was sent"]))
    return secrets


@dataclass(frozen=True)
class _Lease:
    store: DeliveryStore
    endpoint: str
    holder: str
    ttl: float
    clock: Callable[[], float]

    def renew(self) -> None:
        """Extend the lease; LeaseLost when another deliverer took it over."""
        at = _instant(self.clock)
        self.store.renew_lease(self.endpoint, self.holder, at, at + timedelta(seconds=self.ttl))


@contextlib.contextmanager
def _leased(
    store: DeliveryStore, endpoint: Endpoint, clock: Callable[[], float], ttl: float, log: Log, report: EndpointReport
) -> Iterator[_Lease | None]:
    """Hold the endpoint's lease for the block, or yield None when another deliverer holds it
    (the report says so)."""
    holder = new_holder()
    now = _instant(clock)
    state = store.take_lease(endpoint.name, holder, now, now + timedelta(seconds=ttl))
    if not state.taken:
        until = f" until {iso_z(state.expires_at)}" if state.expires_at else ""
        report.skipped = f"another deliverer ({state.holder}) holds its lease{until}"
        log(report.summary())
        yield None
        return

    try:
        yield _Lease(store, endpoint.name, holder, ttl, clock)
    finally:
        with contextlib.suppress(DeliveryError):  # expires on its own when the store is gone
            store.release_lease(endpoint.name, holder, _instant(clock))


def _deliver_endpoint(
    store: DeliveryStore,
    endpoint: Endpoint,
    secret: Secret,
    *,
    tuning: Tuning,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    log: Log,
) -> EndpointReport:
    report = EndpointReport(endpoint.name, endpoint.display_url)
    ttl = max(tuning.lease_seconds, 2 * endpoint.timeout + 5)
    with _leased(store, endpoint, clock, ttl, log, report) as lease:
        if lease is None:
            return report
        holder = lease.holder
        cursor = store.cursor(endpoint.name)
        report.cursor = cursor
        try:
            with httpx.Client(verify=True, follow_redirects=False, timeout=endpoint.timeout) as client:
                sender = Sender(
                    endpoint,
                    secret,
                    client,
                    backoff=tuning.backoff,
                    renew=lease.renew,
                    renew_every=min(10.0, ttl / 3),
                    clock=clock,
                    sleep=sleep,
                )
                while True:
                    lease.renew()
                    changes = store.fetch(endpoint, cursor, endpoint.batch_size)
                    if not changes:
                        break
                    batch = Batch(endpoint.name, tuple(changes))
                    result = sender.send(batch)
                    report.retries += result.attempts - 1
                    last = changes[-1].key
                    if result.ok:
                        store.move_cursor(endpoint.name, holder, last, _instant(clock))
                        report.sent += batch.size
                        report.batches += 1
                    else:
                        error = result.last_error or "failed"
                        store.dead_letter(endpoint.name, holder, changes, result.attempts, error, _instant(clock))
                        report.dead_lettered += batch.size
                        log(
                            f"{endpoint.name}: gave up on batch {batch.id[:12]} ({_count(batch.size, 'change')}) "
                            f"after {_count(result.attempts, 'attempt')}: {error}; "
                            f"recorded in segwise_delivery_dead_letters"
                        )
                    cursor = last
                    report.cursor = cursor
        except DeliveryError as exc:
            report.error = str(exc)
    log(report.summary())
    return report


def _dry_run_endpoint(store: DeliveryStore, endpoint: Endpoint, log: Log) -> EndpointReport:
    report = EndpointReport(endpoint.name, endpoint.display_url)
    cursor = store.cursor(endpoint.name)
    report.cursor = cursor
    report.pending = store.count(endpoint, cursor)
    report.batches = math.ceil(report.pending / endpoint.batch_size)
    first = store.fetch(endpoint, cursor, endpoint.batch_size)
    if first:
        report.first_payload = Batch(endpoint.name, tuple(first)).document()
    holder, until = store.lease(endpoint.name)
    log(report.summary(dry_run=True))
    if holder and until:
        log(f"  its lease is held by {holder} until {iso_z(until)}")
    if report.first_payload is not None:
        log(f"  the first request (POST {endpoint.display_url}, Content-Type: application/json,")
        log(f"  Idempotency-Key: {report.first_payload['batch']['id']}, Segwise-Timestamp and Segwise-Signature")
        log(f"  signed with ${endpoint.secret_env}):")
        log(json.dumps(report.first_payload, indent=2, ensure_ascii=False))
    return report


def deliver(
    project: Project,
    profile: ConnectionProfile,
    config_path: Path,
    *,
    dry_run: bool = False,
    endpoints: Sequence[str] | None = None,
    schema: str | None = None,
    log: Log = print,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    tuning: Tuning | None = None,
) -> DeliveryReport:
    """Deliver the changes of `segment_changes` to the endpoints of `config_path`.

    `profile` is the loaded dbt profile target (segwise.warehouse.load_profile); `schema` the
    schema of the segwise tables when it is not the target's. `endpoints` limits the run to
    those names. With `dry_run`, nothing is sent or written: each endpoint's pending count
    and first payload are printed through `log`. `env` is where secrets are read
    (os.environ). `clock` (unix seconds) and `sleep` are for tests.

    Raises ValidationError (deliveries.yml) and DeliveryError (an unset secret, a store that
    cannot be opened); an endpoint that fails midway is reported in its EndpointReport.error
    while the others go on."""
    tuning = tuning or Tuning()
    config = load_deliveries(config_path, project)
    chosen = _chosen(config, endpoints)
    secrets = {} if dry_run else _secrets(chosen, os.environ if env is None else env, config.path)
    reports: list[EndpointReport] = []
    with open_store(profile, schema, read_only=dry_run, lock_wait=tuning.lock_wait) as store:
        store.check_changes_table()
        if dry_run:
            log(f"dry run ({SCHEMA}): nothing is sent, no cursor moves")
            variables = os.environ if env is None else env
            for endpoint in chosen:
                if not variables.get(endpoint.secret_env):
                    log(
                        f"note: {endpoint.secret_env} (the secret of {endpoint.name}) is not set here; "
                        "a real run needs it"
                    )
            return DeliveryReport(True, [_dry_run_endpoint(store, endpoint, log) for endpoint in chosen])
        store.ensure_tables()
        for endpoint in chosen:
            report = _deliver_endpoint(
                store, endpoint, secrets[endpoint.name], tuning=tuning, clock=clock, sleep=sleep, log=log
            )
            reports.append(report)
    return DeliveryReport(False, reports)


def replay_dead_letters(
    project: Project,
    profile: ConnectionProfile,
    config_path: Path,
    *,
    endpoints: Sequence[str] | None = None,
    schema: str | None = None,
    log: Log = print,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    tuning: Tuning | None = None,
) -> DeliveryReport:
    """Send each endpoint's dead letters again, in delivery order and in batches of its
    batch_size, with the same payload and change ids as the first time. Delivered ones leave
    the dead-letter table; ones that fail again stay (attempts added up, last_error updated).
    The cursor does not move."""
    tuning = tuning or Tuning()
    config = load_deliveries(config_path, project)
    chosen = _chosen(config, endpoints)
    secrets = _secrets(chosen, os.environ if env is None else env, config.path)
    reports: list[EndpointReport] = []
    with open_store(profile, schema, lock_wait=tuning.lock_wait) as store:
        store.ensure_tables()
        for endpoint in chosen:
            report = EndpointReport(endpoint.name, endpoint.display_url)
            reports.append(report)
            ttl = max(tuning.lease_seconds, 2 * endpoint.timeout + 5)
            with _leased(store, endpoint, clock, ttl, log, report) as lease:
                if lease is None:
                    continue
                holder = lease.holder
                report.cursor = store.cursor(endpoint.name)
                after: ChangeKey | None = None
                try:
                    with httpx.Client(verify=True, follow_redirects=False, timeout=endpoint.timeout) as client:
                        sender = Sender(
                            endpoint,
                            secrets[endpoint.name],
                            client,
                            backoff=tuning.backoff,
                            renew=lease.renew,
                            renew_every=min(10.0, ttl / 3),
                            clock=clock,
                            sleep=sleep,
                        )
                        while letters := store.dead_letters(endpoint.name, after, endpoint.batch_size):
                            batch = Batch(endpoint.name, tuple(letter.change for letter in letters))
                            ids = [change.id for change in batch.changes]
                            result = sender.send(batch)
                            report.retries += result.attempts - 1
                            if result.ok:
                                store.resolve_dead_letters(endpoint.name, holder, ids, _instant(clock))
                                report.sent += batch.size
                                report.batches += 1
                            else:
                                error = result.last_error or "failed"
                                store.dead_letters_failed_again(
                                    endpoint.name, holder, ids, result.attempts, error, _instant(clock)
                                )
                                report.dead_lettered += batch.size
                            after = batch.changes[-1].key
                except DeliveryError as exc:
                    report.error = str(exc)
            if report.skipped is None:
                log(
                    f"{endpoint.name}: replayed {_count(report.sent, 'dead letter')} in "
                    f"{_count(report.batches, 'batch')}"
                    + (f"; {report.dead_lettered} failed again and stay" if report.dead_lettered else "")
                    + (f"; stopped: {report.error}" if report.error else "")
                )
    return DeliveryReport(False, reports)
