"""T as a property of each row: binding the evaluation's T to the virtual user's instant.

The compiler is given `Instant()` as T. Every CTE it builds reads T only in rows that carry
the virtual user id, under one of three names, decided by the relation the enclosing SELECT
reads (checked below; any other place is refused rather than guessed):

    FROM sw_bf_events AS e       the staging of the events: the relation's own instant column
    FROM sw_events, sw_seq_N     grouped or windowed per `user_key` (features, sequences, the
                                 RFM totals): the instant of `user_key`
    FROM sw_rfm_totals, sw_base,
         sw_layer_N, ...         one row per user (RFM recency, the segments' conditions on
                                 traits and measures): the instant of `user_id`

A window function without PARTITION BY ranks every row of its relation, that is every
instant's users together: it is partitioned by the instant (RFM's scores rank the users
of one instant, as a run at that instant would).
"""

from __future__ import annotations

import re

from sqlglot import exp

from segwise.sql import nodes
from segwise.sql.dialects import Target
from segwise.sql.staging import USER_KEY, col

from .instants import AS_OF, BackfillError, instant_of, instant_text
from .virtual import EVENTS

INSTANT = "INSTANT"


def Instant() -> exp.Anonymous:
    """The evaluation instant T of the current row, bound by `bind`."""
    return nodes.make(INSTANT)


# The relations whose rows carry the virtual id as `user_key` (the staged events and the
# sequences' per-timestamp rows), and those with one row per user, carrying `user_id`.
_BY_KEY = re.compile(r"^(sw_events|sw_seq_\d+)$")
_BY_ID = re.compile(r"^(sw_rfm_totals|sw_rfm_days|sw_rfm_ranks|sw_rfm_scores|sw_bgnbd_days|sw_base|sw_layer_\d+)$")


def _key_column(select: exp.Select, cte: str) -> exp.Expr:
    """The column of the virtual id in the rows `select` reads (see the module doc)."""
    from_ = select.args.get("from_")
    source = from_.this if isinstance(from_, exp.From) else None
    if isinstance(source, exp.Table) and not source.args.get("db"):
        if source.name == EVENTS and source.alias == "e":
            return col(AS_OF, "e")
        if _BY_KEY.match(source.name):
            return col(USER_KEY)
        if _BY_ID.match(source.name):
            return col("user_id")
    raise BackfillError(
        f"backfill cannot tell which instant the rows of {cte} belong to "
        f"(reading {source.sql() if source is not None else 'nothing'}); this is a segwise bug"
    )


def bind(target: Target, ctes: list[tuple[str, exp.Query]]) -> None:
    """Replace every `Instant()` of the compiler's CTEs, in place, and partition its
    population-wide windows by instant."""
    for name, query in ctes:
        for node in list(nodes.find_all(query, INSTANT)):
            select = node.find_ancestor(exp.Select)
            if select is None:
                raise BackfillError(f"T outside a SELECT in {name}; this is a segwise bug")
            key = _key_column(select, name)
            node.replace(key if key.name == AS_OF else instant_of(target, key))
        for window in list(query.find_all(exp.Window)):
            if window.args.get("partition_by"):
                continue
            select = window.find_ancestor(exp.Select)
            if select is None:
                raise BackfillError(f"a window outside a SELECT in {name}; this is a segwise bug")
            key = _key_column(select, name)
            if key.name == AS_OF:
                raise BackfillError(f"a window over the raw events in {name}; this is a segwise bug")
            window.set("partition_by", [instant_text(key)])
        if any(True for _ in nodes.find_all(query, INSTANT)):
            raise BackfillError(f"T left unbound in {name}; this is a segwise bug")
