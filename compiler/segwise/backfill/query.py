"""The backfill's membership query: every member of every named segment at every instant, in
one pass over the events (the ordinary evaluation, over virtual users; see the package doc)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from segwise.config import Project
from segwise.rules.nodes import PredictCondition
from segwise.rules.walk import walk
from segwise.sql import literals
from segwise.sql.conditions import segment_column
from segwise.sql.dialects import get_target
from segwise.sql.holdout import variant
from segwise.sql.plan import build_plan
from segwise.sql.query import evaluation
from segwise.sql.relations import Resolver, direct
from segwise.sql.staging import alias, col, table

from .binding import Instant, bind
from .instants import INSTANTS, BackfillError, checked_instants, instant_of, instants_cte, user_of
from .virtual import (
    COPIES,
    EVENTS,
    USERS,
    Options,
    check_columns,
    compiler_project,
    copies_cte,
    events_cte,
    prunable,
    users_cte,
)

MEMBERS = "sw_bf_members"  # instant, user_id, s_<segment>...
COLUMNS = ("segment", "instant", "user_id", "variant")


def refuse_unsupported(project: Project, names: Sequence[str]) -> None:
    """A clear error for each named segment that cannot be evaluated at past instants."""
    plan = build_plan(project, names)
    predicting = {s.name for s in plan.segments if any(isinstance(n, PredictCondition) for n in walk(s.rule))}
    if not predicting:
        return
    problems = []
    for name in names:
        deps = [s.name for s in build_plan(project, [name]).segments if s.name in predicting]
        if deps:
            via = "" if deps == [name] else f" (through {', '.join(repr(d) for d in deps if d != name)})"
            problems.append(f"{name!r}{via}")
    which = f"segment {problems[0]}: it uses" if len(problems) == 1 else f"segments {', '.join(problems)}: they use"
    raise BackfillError(
        f"cannot backfill {which} a `predict` condition. Predictions score with the latest fit in "
        "segwise_models, fitted on the data of its own time, so every past instant would see purchases made "
        "after it; backfill the other segments, or the rule without its predict condition"
    )


def caveats(project: Project, names: Iterable[str]) -> list[str]:
    """What a reader of the backfilled numbers should know about these segments."""
    notes = []
    for name in names:
        traits = sorted(build_plan(project, [name]).traits)
        if traits:
            read = ", ".join(traits)
            notes.append(f"{name}: reads the users' current {read} at every instant (segwise keeps no trait history)")
    return notes


@dataclass(frozen=True)
class Membership:
    """The CTEs of a backfill and the query of its rows (segment, instant, user_id, variant)."""

    ctes: list[tuple[str, exp.Query]]
    rows: exp.Query
    instants: list[datetime]

    def select(self) -> exp.Select:
        query = exp.select(*(col(c) for c in COLUMNS)).from_(self.rows.subquery("members", copy=False), copy=False)
        return with_ctes(query, self.ctes)


def with_ctes(query: exp.Select, ctes: list[tuple[str, exp.Query]]) -> exp.Select:
    for name, cte in ctes:
        query = query.with_(name, as_=cte, copy=False)
    return query


def membership(
    project: Project,
    names: Iterable[str],
    dialect: str,
    instants: Iterable[datetime],
    resolver: Resolver | None = None,
    options: Options | None = None,
) -> Membership:
    names = list(dict.fromkeys(names))
    if not names:
        raise BackfillError("nothing to backfill: no segments named")
    for name in names:
        if name not in project.segments:
            raise BackfillError(f"unknown segment {name!r}")
    options = options or Options()
    moments = checked_instants(instants)
    refuse_unsupported(project, names)
    target = get_target(dialect)
    resolve = resolver or direct()
    config = project.config
    plan = build_plan(project, names)
    passed = check_columns(config, plan, options.exclude_late)
    prune = options.prune and prunable(plan)
    ctes: list[tuple[str, exp.Query]] = [
        (INSTANTS, instants_cte(target, moments)),
        (USERS, users_cte(target, config, plan, resolve(config.users.relation))),
        (COPIES, copies_cte(target, config, passed, resolve(config.events.relation), options.exclude_late)),
        (EVENTS, events_cte(target, config, plan, passed, options, prune)),
    ]
    ev = evaluation(compiler_project(project), names, dialect, Instant(), direct())
    compiled: list[tuple[str, exp.Query]] = list(ev.ctes)
    bind(target, compiled)
    ctes += compiled
    virtual = col("user_id")
    members = exp.select(
        alias(instant_of(target, virtual.copy()), "instant"),
        alias(user_of(virtual.copy()), "user_id"),
        *(col(segment_column(n)) for n in names),
    ).from_(table(ev.final), copy=False)
    ctes.append((MEMBERS, members))
    parts = [
        exp.select(
            alias(literals.string(name), "segment"),
            col("instant"),
            col("user_id"),
            alias(variant(target, col("user_id"), name, project.segments[name].holdout), "variant"),
        )
        .from_(table(MEMBERS), copy=False)
        .where(col(segment_column(name)), copy=False)
        for name in names
    ]
    rows: exp.Query = parts[0]
    for part in parts[1:]:
        rows = exp.Union(this=rows, expression=part, distinct=False)
    return Membership(ctes, rows, moments)


def backfill_sql(
    project: Project,
    names: Iterable[str],
    dialect: str,
    instants: Iterable[datetime],
    resolver: Resolver | None = None,
    *,
    exclude_late: bool = False,
    prune: bool = True,
) -> exp.Select:
    """One query: SELECT segment, instant, user_id, variant for every member of every named
    segment at every instant (a timestamp, UTC), reading the events once.

    `exclude_late` counts only the events loaded by the instant (loaded_at <= instant; NULL
    counts as loaded); by default every event the warehouse holds now with ts <= instant
    counts, also one that arrived after the instant. `prune` (default) joins each event only
    to the instants where some rule reads it; off, every event joins every later instant
    (the same result, for checking)."""
    return membership(project, names, dialect, instants, resolver, Options(exclude_late, prune)).select()
