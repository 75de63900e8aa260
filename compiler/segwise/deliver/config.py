"""`deliveries.yml` -> validated endpoints (docs/delivery.md), every mistake of the file
reported at once with its line, column and a hint, as `segwise validate` reports segwise.yml.

    version: 1
    endpoints:
      - name: crm
        url: https://hooks.example.com/segwise
        secret_env: CRM_WEBHOOK_SECRET
        segments: [churn_risk]
        tags: [lifecycle]
        changes: [entered, exited]
        include_definition_changes: false
        batch_size: 100
        rate_limit: 10
        timeout: 10
        max_attempts: 8
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from segwise.config import Project
from segwise.errors import ValidationError
from segwise.loading.reader import (
    Reporter,
    as_list,
    as_map,
    as_str,
    check_keys,
    closest,
    describe,
    require,
    unquote_hint,
)
from segwise.loading.yaml_source import YMap, YNode, YScalar, read_yaml_file
from segwise.rules.values import Location

VERSION = 1
TOP_KEYS = ("version", "endpoints")
ENDPOINT_KEYS = (
    "name",
    "url",
    "secret_env",
    "segments",
    "tags",
    "changes",
    "include_definition_changes",
    "batch_size",
    "rate_limit",
    "timeout",
    "max_attempts",
)
CHANGES = ("entered", "exited")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ENDPOINT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_BATCH = 10_000
MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    secret_env: str  # the name of the environment variable; the secret itself is read at run time
    segments: frozenset[str]  # the project's segments this endpoint hears about (named or tagged)
    changes: tuple[str, ...] = CHANGES
    include_definition_changes: bool = False
    batch_size: int = 100
    rate_limit: float = 10.0  # requests per second
    timeout: float = 10.0  # seconds per request
    max_attempts: int = 8
    location: Location | None = field(default=None, compare=False)
    secret_location: Location | None = field(default=None, compare=False)

    @property
    def display_url(self) -> str:
        """The URL without its query and fragment (which may carry tokens), for messages."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class DeliveriesConfig:
    endpoints: tuple[Endpoint, ...]
    path: str


def load_deliveries(path: Path, project: Project) -> DeliveriesConfig:
    """Read and validate `deliveries.yml` against the project's segments and tags; raise
    ValidationError listing every problem (each with file, line and column)."""
    file = str(path)
    root, diagnostics = read_yaml_file(path, file)
    r = Reporter(file)
    r.diagnostics.extend(diagnostics)
    endpoints = _parse(r, root, project) if not diagnostics else None
    if r.diagnostics or endpoints is None:
        raise ValidationError(r.diagnostics)
    return DeliveriesConfig(tuple(endpoints), file)


def _parse(r: Reporter, root: YNode | None, project: Project) -> list[Endpoint] | None:
    if root is None:
        r.error(YScalar(None, "", 1, 1), "the file is empty", "start with `version: 1` and a list of `endpoints:`")
        return None
    m = as_map(r, root, "deliveries.yml")
    if m is None:
        return None
    check_keys(r, m, TOP_KEYS, "deliveries.yml")
    version = require(r, m, "version", "deliveries.yml")
    if version is not None and not (
        isinstance(version, YScalar) and not isinstance(version.value, bool) and version.value == VERSION
    ):
        r.error(version, f"unsupported version: {describe(version)}", "write `version: 1`")
    node = require(r, m, "endpoints", "deliveries.yml")
    items = as_list(r, node, "endpoints", non_empty=True) if node is not None else None
    if items is None:
        return None
    endpoints: list[Endpoint] = []
    seen: dict[str, int] = {}
    for item in items:
        endpoint = _endpoint(r, item, project)
        if endpoint is None:
            continue
        if endpoint.name in seen:
            at = item.get("name") if isinstance(item, YMap) else None
            r.error(
                at or item,
                f"duplicate endpoint name '{endpoint.name}' (first at line {seen[endpoint.name]})",
                "each endpoint needs its own name: the name keys its cursor",
            )
            continue
        seen[endpoint.name] = item.line
        endpoints.append(endpoint)
    return endpoints


def _endpoint(r: Reporter, node: YNode, project: Project) -> Endpoint | None:
    m = as_map(r, node, "an endpoint")
    if m is None:
        return None
    name_node = require(r, m, "name", "an endpoint")
    name = as_str(r, name_node, "the endpoint name") if name_node is not None else None
    if name is not None and name_node is not None and not ENDPOINT_NAME_RE.match(name):
        r.error(name_node, f"invalid endpoint name: {name!r}", "use letters, digits, '_', '-' and '.' (at most 100)")
        name = None
    what = f"endpoint '{name}'" if name else "the endpoint"
    check_keys(r, m, ENDPOINT_KEYS, what)
    url = _url(r, m, what)
    secret_env = _secret_env(r, m, what)
    segments = _segments(r, m, what, project)
    changes = _changes(r, m, what)
    include = _optional(
        m, "include_definition_changes", False, lambda n: _bool(r, n, what, "include_definition_changes")
    )
    batch_size = _optional(m, "batch_size", 100, lambda n: _int(r, n, what, "batch_size", 1, MAX_BATCH))
    rate = _optional(m, "rate_limit", 10.0, lambda n: _positive(r, n, what, "rate_limit", "requests per second"))
    timeout = _optional(m, "timeout", 10.0, lambda n: _positive(r, n, what, "timeout", "seconds"))
    attempts = _optional(m, "max_attempts", 8, lambda n: _int(r, n, what, "max_attempts", 1, MAX_ATTEMPTS))
    if (
        name is None
        or url is None
        or secret_env is None
        or segments is None
        or changes is None
        or include is None
        or batch_size is None
        or rate is None
        or timeout is None
        or attempts is None
    ):
        return None
    secret_node = m.get("secret_env")
    return Endpoint(
        name=name,
        url=url,
        secret_env=secret_env,
        segments=segments,
        changes=changes,
        include_definition_changes=include,
        batch_size=batch_size,
        rate_limit=rate,
        timeout=timeout,
        max_attempts=attempts,
        location=r.location(m),
        secret_location=r.location(secret_node) if secret_node is not None else None,
    )


T = TypeVar("T")


def _optional(m: YMap, key: str, default: T, parse: Callable[[YNode], T | None]) -> T | None:
    """The parsed value, `default` when the key is absent, None when it is invalid (reported)."""
    node = m.get(key)
    return default if node is None else parse(node)


def _bool(r: Reporter, node: YNode, what: str, key: str) -> bool | None:
    if isinstance(node, YScalar) and isinstance(node.value, bool):
        return node.value
    r.error(node, f"{what}: {key} must be true or false, got {describe(node)}", unquote_hint(node, key, "bool"))
    return None


def _int(r: Reporter, node: YNode, what: str, key: str, low: int, high: int) -> int | None:
    value = node.value if isinstance(node, YScalar) else None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        shown = str(value) if isinstance(value, int) and not isinstance(value, bool) else describe(node)
        hint = unquote_hint(node, key, "int")
        r.error(node, f"{what}: {key} must be an integer from {low} to {high}, got {shown}", hint)
        return None
    return value


def _positive(r: Reporter, node: YNode, what: str, key: str, unit: str) -> float | None:
    value = node.value if isinstance(node, YScalar) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        numeric = isinstance(node, YScalar) and isinstance(value, int | float) and not isinstance(value, bool)
        shown = node.raw if numeric and isinstance(node, YScalar) else describe(node)
        hint = unquote_hint(node, key, "float")
        r.error(node, f"{what}: {key} must be a number of {unit} more than 0, got {shown}", hint)
        return None
    return float(value)


def _url(r: Reporter, m: YMap, what: str) -> str | None:
    node = require(r, m, "url", what)
    text = as_str(r, node, f"{what}: url") if node is not None else None
    if text is None or node is None:
        return None
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError as exc:
        r.error(node, f"{what}: invalid url: {exc}", "write https://host/path")
        return None
    if parts.scheme not in ("https", "http") or not host:
        r.error(node, f"{what}: url must be an https:// address, got {_shown(text)!r}", "write https://host/path")
        return None
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        r.error(
            node,
            f"{what}: url must use https, got http://{host}",
            "deliveries are sent over https; plain http is allowed only to localhost or 127.0.0.1 (tests)",
        )
        return None
    if parts.username is not None or parts.password is not None:
        r.error(
            node,
            f"{what}: the url must not carry credentials (user:password@)",
            "requests are authenticated by their signature: put the secret in the variable named by secret_env",
        )
        return None
    return text


def _shown(url: str) -> str:
    """A URL for an error message, cut before its query (which may carry a token)."""
    return url.split("?", 1)[0].split("#", 1)[0]


def _secret_env(r: Reporter, m: YMap, what: str) -> str | None:
    node = require(r, m, "secret_env", what)
    text = as_str(r, node, f"{what}: secret_env") if node is not None else None
    if text is None or node is None:
        return None
    if not ENV_NAME_RE.match(text):
        # Never echo the value: someone may have pasted the secret itself here.
        r.error(
            node,
            f"{what}: secret_env must name an environment variable (letters, digits and _), not hold the secret",
            "write `secret_env: CRM_WEBHOOK_SECRET` and export CRM_WEBHOOK_SECRET=... where `segwise deliver` runs",
        )
        return None
    return text


def _names(r: Reporter, m: YMap, key: str, what: str) -> list[tuple[str, YNode]] | None:
    node = m.get(key)
    if node is None:
        return []
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value:
        r.error(node, f"{what}: {key} must be a list, got {describe(node)}", f"write {key}: [{node.value}]")
        return None
    items = as_list(r, node, f"{what}: {key}")
    if items is None:
        return None
    names: list[tuple[str, YNode]] = []
    for item in items:
        text = as_str(r, item, f"{what}: an item of {key}")
        if text is None:
            return None
        names.append((text, item))
    return names


def _segments(r: Reporter, m: YMap, what: str, project: Project) -> frozenset[str] | None:
    named = _names(r, m, "segments", what)
    tagged = _names(r, m, "tags", what)
    if named is None or tagged is None:
        return None
    if not named and not tagged:
        r.error(m, f"{what} selects no segment", "list `segments: [name, ...]` and/or `tags: [tag, ...]`")
        return None
    ok = True
    chosen: set[str] = set()
    known = sorted(project.segments)
    for name, node in named:
        if name not in project.segments:
            r.error(node, f"{what}: unknown segment '{name}'", closest(name, known) or "the project has no segments")
            ok = False
        chosen.add(name)
    all_tags = sorted({tag for segment in project.segments.values() for tag in segment.tags})
    for tag, node in tagged:
        members = {s.name for s in project.segments.values() if tag in s.tags}
        if not members:
            r.error(node, f"{what}: no segment has the tag '{tag}'", closest(tag, all_tags) or "no segment has tags")
            ok = False
        chosen |= members
    return frozenset(chosen) if ok else None


def _changes(r: Reporter, m: YMap, what: str) -> tuple[str, ...] | None:
    listed = _names(r, m, "changes", what)
    if listed is None:
        return None
    if not listed:
        if m.get("changes") is not None:
            r.error(m.get("changes") or m, f"{what}: changes must not be empty", "write [entered], [exited] or both")
            return None
        return CHANGES
    ok = True
    for text, node in listed:
        if text not in CHANGES:
            r.error(node, f"{what}: unknown change '{text}'", closest(text, CHANGES))
            ok = False
    return tuple(c for c in CHANGES if c in {text for text, _ in listed}) if ok else None
