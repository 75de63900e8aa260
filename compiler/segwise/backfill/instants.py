"""The instants of a backfill, and how an instant travels inside a virtual user id.

Every (instant, user) pair is one *virtual user* whose id is the instant's fixed-width text,
a separator and the real user id:

    '2025-06-01 00:00:00.000000|42'

so grouping, partitioning and joining by the id (which is all the compiler ever does with
it) keeps instants apart, and any row that has the id has its instant: the first
`KEY_WIDTH` characters, cast to a timestamp.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlglot import exp

from segwise.errors import CompileError
from segwise.rules.values import Duration
from segwise.sql import literals
from segwise.sql.dialects import Target
from segwise.sql.staging import col

KEY_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
KEY_WIDTH = 26  # len('2025-06-01 00:00:00.000000')
SEPARATOR = "|"

INSTANTS = "sw_bf_instants"  # CTE: sw_bf_index, sw_bf_key, sw_bf_as_of
INDEX = "sw_bf_index"  # 0, 1, ... in time order
KEY = "sw_bf_key"  # the virtual id's prefix, separator included
AS_OF = "sw_bf_as_of"  # the instant, a timestamp

# A backfill's VALUES list grows with its instants; beyond this, ask for a coarser step.
MAX_INSTANTS = 10_000


class BackfillError(CompileError):
    """A backfill that cannot be compiled as asked (a segment it cannot evaluate at past
    instants, bad instants, an option the config does not support)."""


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def checked_instants(instants: Iterable[datetime]) -> list[datetime]:
    """The instants as naive UTC, strictly increasing; an error names the first bad one."""
    out = [_naive_utc(t) for t in instants]
    if not out:
        raise BackfillError("a backfill needs at least one instant")
    if len(out) > MAX_INSTANTS:
        raise BackfillError(f"{len(out):,} instants is more than {MAX_INSTANTS:,}: use a longer step")
    for previous, current in itertools.pairwise(out):
        if current <= previous:
            raise BackfillError(f"instants must be strictly increasing: {current} follows {previous}")
    for moment in (out[0], out[-1]):
        if not 1000 <= moment.year <= 9999:
            raise BackfillError(f"instant {moment} is outside the years 1000-9999")
    return out


def instants_between(start: datetime, end: datetime, every: Duration | timedelta) -> list[datetime]:
    """start, start + every, ... up to and including end (the CLI's --from/--to/--every)."""
    step = every if isinstance(every, timedelta) else timedelta(seconds=every.seconds)
    if step <= timedelta(0):
        raise BackfillError("the step between instants must be positive")
    start, end = _naive_utc(start), _naive_utc(end)
    if end < start:
        raise BackfillError(f"the last instant {end} is before the first {start}")
    count = (end - start) // step + 1
    if count > MAX_INSTANTS:
        raise BackfillError(f"{count:,} instants is more than {MAX_INSTANTS:,}: use a longer step")
    return [start + k * step for k in range(count)]


def key_text(instant: datetime) -> str:
    """The prefix of the virtual ids of `instant`, separator included."""
    return instant.strftime(KEY_FORMAT) + SEPARATOR


def instants_cte(target: Target, instants: list[datetime]) -> exp.Select:
    """SELECT sw_bf_index, sw_bf_key, sw_bf_as_of FROM (VALUES ...)."""
    rows = [
        (exp.Literal.number(i), literals.string(key_text(t)), literals.timestamp(target, t))
        for i, t in enumerate(instants)
    ]
    values = exp.values(rows, alias="i", columns=[INDEX, KEY, AS_OF])
    return exp.select(col(INDEX, "i"), col(KEY, "i"), col(AS_OF, "i")).from_(values, copy=False)


def virtual_id(key: exp.Expr, user_id_text: exp.Expr) -> exp.Expr:
    """The virtual id: the instant's key (with its separator) followed by the text user id."""
    return exp.DPipe(this=key, expression=user_id_text)


def instant_of(target: Target, virtual: exp.Expr) -> exp.Expr:
    """The instant of a virtual id, as a timestamp."""
    return target.cast(instant_text(virtual), "timestamp")


def instant_text(virtual: exp.Expr) -> exp.Expr:
    """The instant part of a virtual id, as its text (equal text, equal instant)."""
    return exp.Substring(this=virtual, start=exp.Literal.number(1), length=exp.Literal.number(KEY_WIDTH))


def user_of(virtual: exp.Expr) -> exp.Expr:
    """The real (text) user id of a virtual id."""
    return exp.Substring(this=virtual, start=exp.Literal.number(KEY_WIDTH + len(SEPARATOR) + 1))
