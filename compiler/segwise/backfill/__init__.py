"""Retroactive history: what segments would have been at past instants, from the data the
warehouse holds now, in one pass over the events for all instants.

How. The ordinary evaluation (segwise.sql.query.evaluation) decides membership at one T for
every user. A backfill hands it *virtual users*: each (instant, user) pair is a user whose
id starts with the instant (instants.py), whose traits are the user's, and whose events are
the user's events that exist at that instant (virtual.py). The compiler groups, partitions
and joins by user id only, so each virtual user is evaluated on its own, and T, wherever
the compiler reads it, is bound to the instant of the row's virtual id (binding.py): staging
(`ts <= T`), windows and regularity periods, sequence windows and absent steps, RFM recency,
time conditions on traits and measures (`more_than_ago`, `in_next`, ...). RFM ranks the
users of each instant among themselves (its windows are partitioned by instant). Segments
with `predict` conditions are refused (query.refuse_unsupported).

What the numbers mean (docs/semantics.md applies at each instant T):

- events count as the warehouse holds them now: an event with ts <= T that arrived after T
  counts (with `exclude_late`, only events with loaded_at <= T do);
- traits are the users' current values at every instant (there is no trait history), and
  every row of the users relation is in the universe at every instant, also a user created
  later;
- variants (holdouts) are those of the segment's current name and holdout.

API:

    backfill_sql(project, names, dialect, instants, resolver)        membership rows
        -> SELECT segment, instant, user_id, variant
    backfill_sizes_sql(project, names, dialect, instants, resolver)  sizes, one query
        -> SELECT segment, instant, members, entered, exited, control_members
    sizes_sql(names, dialect, instants, membership_relation)         sizes over written rows
    changes_sql(names, dialect, instants, membership_relation)       entries and exits over them
    backfill_statements / record_backfill (record.py)                 written through dbt
    run_backfill(project, names, warehouse, instants, resolver, members=False) -> BackfillResult
    instants_between(start, end, every)                              --from/--to/--every
"""

from __future__ import annotations

from .changes import SIZE_COLUMNS, BackfillMember, BackfillSize, changes_sql, sizes_from_members, sizes_sql
from .instants import BackfillError, instants_between
from .query import COLUMNS, backfill_sql, caveats
from .run import BackfillResult, backfill_sizes_sql, run_backfill

__all__ = [
    "COLUMNS",
    "SIZE_COLUMNS",
    "BackfillError",
    "BackfillMember",
    "BackfillResult",
    "BackfillSize",
    "backfill_sizes_sql",
    "backfill_sql",
    "caveats",
    "changes_sql",
    "instants_between",
    "run_backfill",
    "sizes_from_members",
    "sizes_sql",
]
