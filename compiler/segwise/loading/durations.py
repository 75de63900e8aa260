"""Durations as written in rules and config (`90m`, `48h`, `30d`)."""

from __future__ import annotations

from segwise.loading.reader import Reporter, describe
from segwise.loading.yaml_source import YNode, YScalar
from segwise.rules.values import Duration

# Longer windows mean nothing for segments and would overflow date arithmetic (T - d) in
# engines and in Python.
MAX_DURATION = Duration.parse("36500d")


def parse_duration(r: Reporter, node: YNode, what: str, *, allow_zero: bool = False) -> Duration | None:
    """A positive duration (or `0s` where `allow_zero`), at most 100 years."""
    if not (isinstance(node, YScalar) and isinstance(node.value, str)):
        r.error(node, f"{what} needs a duration such as 30d, 48h or 90m, got {describe(node)}")
        return None
    try:
        duration = Duration.parse(node.value)
    except ValueError as exc:
        r.error(node, f"{what}: {exc}")
        return None
    if duration.seconds == 0 and not allow_zero:
        r.error(node, f"{what} needs a positive duration, got {node.value!r}")
        return None
    if duration > MAX_DURATION:
        r.error(node, f"{what}: durations longer than {MAX_DURATION} (100 years) are not supported")
        return None
    return duration
