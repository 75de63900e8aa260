"""Assembling the evaluation query: staging, shared features, per-user base, segment layers.

sw_users, sw_events          typed inputs (events: ts <= T, deduplicated)
sw_seen                      every user with events, and the built-in traits (all events)
sw_features                  every other event aggregate, one GROUP BY pass over the events
                             within some feature's horizon
sw_seq_*, sw_sequences       sequences, window functions over the users' events
sw_rfm_*, sw_rfm             RFM scores over all users
sw_base                      one row per universe user: traits + features
sw_layer_N                   segment booleans; a layer only references earlier layers
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from segwise.config import Project
from segwise.errors import CompileError
from segwise.rules.nodes import Segment
from segwise.rules.order import referenced
from segwise.rules.values import ValueType
from segwise.sql import literals
from segwise.sql.aggregates import base_feature, features_cte
from segwise.sql.conditions import condition_sql, segment_column
from segwise.sql.dialects import Target, get_target
from segwise.sql.holdout import variant
from segwise.sql.plan import Plan, build_plan, sequence_column
from segwise.sql.predict import HISTORY_COLUMNS, MODELS_TABLE, predict_ctes, score_column
from segwise.sql.relations import Resolver, direct
from segwise.sql.rfm import rfm_ctes, rfm_events_cte
from segwise.sql.sequences import sequence_ctes
from segwise.sql.staging import (
    Restriction,
    alias,
    col,
    events_cte,
    store_events_cte,
    table,
    trait_column,
    users_cte,
)

RFM_COLUMNS = ["recency_days", "frequency", "monetary", "r", "f", "m", "tier"]


@dataclass(frozen=True)
class Evaluation:
    """The compiled evaluation: CTEs plus the relation holding one boolean column per segment."""

    plan: Plan
    ctes: list[tuple[str, exp.Select]]
    final: str  # name of the last CTE; columns user_id, s_<segment>...

    def select(self, query: exp.Select) -> exp.Select:
        for name, cte in self.ctes:
            query = query.with_(name, as_=cte, copy=False)
        return query


def _as_of(target: Target, as_of: datetime | exp.Expr) -> exp.Expr:
    return literals.timestamp(target, as_of) if isinstance(as_of, datetime) else as_of


def _layers(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Group segments so that each references only segments of earlier groups."""
    level: dict[str, int] = {}
    for seg in segments:  # dependency order: references come first
        level[seg.name] = 1 + max((level[r] for r in referenced(seg)), default=-1)
    out: list[list[Segment]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for seg in segments:
        out[level[seg.name]].append(seg)
    return out


def evaluation(
    project: Project,
    names: Iterable[str],
    dialect: str,
    as_of: datetime | exp.Expr,
    resolver: Resolver | None = None,
    candidates: exp.Query | Restriction | None = None,
    store: exp.Expr | None = None,
    models: exp.Expr | None = None,
) -> Evaluation:
    """Everything needed to decide membership of `names` (and what they reference) at T.

    `candidates`, a query of user ids, restricts the evaluation to those users (the
    incremental runs); RFM still ranks every user. `store`, the event store's table
    (segwise.sql.event_store), is read instead of the raw events.
    """
    target = get_target(dialect)
    resolve = resolver or direct()
    t = _as_of(target, as_of)
    if isinstance(candidates, exp.Query):
        candidates = Restriction(candidates)
    config = project.config
    plan = build_plan(project, names)
    if not plan.segments:
        raise CompileError("nothing to compile: no segments selected")

    ctes: list[tuple[str, exp.Select]] = []
    users_table = resolve(config.users.relation)
    events_table = resolve(config.events.relation)
    traits = list(plan.traits)
    ctes.append(("sw_users", users_cte(target, config, users_table, traits, candidates)))
    if store is None:
        staged = events_cte(target, config, events_table, plan.properties, t, candidates, plan.property_events)
    else:
        staged = store_events_cte(target, store, plan.properties, t, candidates)
    ctes.append(("sw_events", staged))
    # The built-in traits read every event, the other features only their events' horizons
    # (often a small share of the history); sw_seen also holds every user with events.
    builtin = [f for f in plan.features if f.filter is None]
    named = [f for f in plan.features if f.filter is not None]
    ctes.append(("sw_seen", features_cte(target, builtin, t)))
    if named:
        ctes.append(("sw_features", features_cte(target, named, t, plan.event_horizons)))
    sequences = list(plan.sequences)
    if sequences:
        ctes.extend(sequence_ctes(target, sequences, t))
    if plan.uses_rfm:
        assert config.rfm is not None
        rfm_events = "sw_events"
        if candidates is not None:  # scores rank everyone, not only the candidates
            everyone = (
                rfm_events_cte(target, config, events_table.copy(), t)
                if store is None
                else store_events_cte(target, store.copy(), {config.rfm.monetary: ValueType.NUMBER}, t, None)
            )
            ctes.append(("sw_rfm_events", everyone))
            rfm_events = "sw_rfm_events"
        ctes.extend(rfm_ctes(target, config.rfm, rfm_events, t))
    if plan.predictions:  # per user, not ranked against the others: the candidates' events suffice
        assert config.predict is not None and config.predict.bgnbd is not None
        fits = models if models is not None else exp.to_table(MODELS_TABLE)
        ctes.extend(predict_ctes(target, config.predict.bgnbd, "sw_events", t, fits, plan.predictions))

    ids: exp.Query = exp.union(
        exp.select(col("user_id")).from_(table("sw_users"), copy=False),
        exp.select(col("user_id")).from_(table("sw_seen"), copy=False),
        distinct=True,
    )
    if candidates is not None and candidates.widen is not None:
        # A segment evaluated for everyone has every user with events in its universe, also
        # those with none of the events it reads.
        if store is None:
            raise CompileError("evaluating changed segments for every user needs the event store")
        seen = (
            exp.select(col("user_id", "s"))
            .from_(exp.alias_(store.copy(), "s", table=True), copy=False)
            .where(
                exp.and_(exp.LTE(this=col("ts", "s"), expression=t.copy()), candidates.widen.users.copy()), copy=False
            )
        )
        ids = exp.union(ids, seen, distinct=True)
    base = exp.select(col("user_id", "ids"))
    base = base.select(*(col(trait_column(n), "u") for n in traits), copy=False)
    base = base.select(*(base_feature(f, "a") for f in builtin), copy=False)
    base = base.select(*(base_feature(f, "f") for f in named), copy=False)
    base = base.from_(ids.subquery("ids", copy=False), copy=False)
    base = base.join(
        exp.alias_(exp.to_table("sw_users"), "u", table=True), on=_same_user("u"), join_type="left", copy=False
    )
    base = base.join(
        exp.alias_(exp.to_table("sw_seen"), "a", table=True), on=_same_user("a"), join_type="left", copy=False
    )
    if named:
        base = base.join(
            exp.alias_(exp.to_table("sw_features"), "f", table=True), on=_same_user("f"), join_type="left", copy=False
        )
    if sequences:
        base = base.select(
            *(
                exp.alias_(
                    exp.Coalesce(this=col(sequence_column(s), "q"), expressions=[exp.Literal.number(0)]),
                    sequence_column(s),
                )
                for s in sequences
            ),
            copy=False,
        )
        base = base.join(
            exp.alias_(exp.to_table("sw_sequences"), "q", table=True), on=_same_user("q"), join_type="left", copy=False
        )
    if plan.uses_rfm:
        base = base.select(*(exp.alias_(col(c, "r"), f"rfm_{c}") for c in RFM_COLUMNS), copy=False)
        base = base.join(
            exp.alias_(exp.to_table("sw_rfm"), "r", table=True), on=_same_user("r"), join_type="left", copy=False
        )
    if plan.predictions:
        predicted = [*HISTORY_COLUMNS.values(), *(score_column(s, w) for s, w in plan.predictions)]
        base = base.select(*(col(c, "p") for c in predicted), copy=False)
        base = base.join(
            exp.alias_(exp.to_table("sw_bgnbd"), "p", table=True), on=_same_user("p"), join_type="left", copy=False
        )
    ctes.append(("sw_base", base))

    previous = "sw_base"
    for n, layer in enumerate(_layers(plan.segments), start=1):
        columns = [alias(condition_sql(target, config, seg.rule, t), segment_column(seg.name)) for seg in layer]
        select = exp.Select(expressions=[exp.Star(), *columns], from_=exp.From(this=table(previous)))
        name = f"sw_layer_{n}"
        ctes.append((name, select))
        previous = name
    return Evaluation(plan, ctes, previous)


def _same_user(alias: str) -> exp.Expr:
    return exp.EQ(this=col("user_id", alias), expression=col("user_id", "ids"))


def compile_segment(
    project: Project,
    name: str,
    dialect: str,
    as_of: datetime | exp.Expr,
    resolver: Resolver | None = None,
) -> exp.Select:
    """SELECT user_id, variant of NAME's members at T."""
    ev = evaluation(project, [name], dialect, as_of, resolver)
    target = get_target(dialect)
    segment = project.segments[name]
    query = (
        exp.select(col("user_id"), alias(variant(target, col("user_id"), name, segment.holdout), "variant"))
        .from_(table(ev.final), copy=False)
        .where(col(segment_column(name)), copy=False)
    )
    return ev.select(query)


def compile_membership(
    project: Project,
    names: Iterable[str],
    dialect: str,
    as_of: datetime | exp.Expr,
    resolver: Resolver | None = None,
    candidates: exp.Query | None = None,
    store: exp.Expr | None = None,
) -> exp.Select:
    """SELECT segment, user_id, variant for every member of every named segment."""
    names = list(names)
    ev = evaluation(project, names, dialect, as_of, resolver, candidates, store)
    target = get_target(dialect)
    parts = [
        exp.select(
            alias(literals.string(name), "segment"),
            col("user_id"),
            alias(variant(target, col("user_id"), name, project.segments[name].holdout), "variant"),
        )
        .from_(table(ev.final), copy=False)
        .where(col(segment_column(name)), copy=False)
        for name in names
    ]
    query: exp.Query = parts[0]
    for part in parts[1:]:
        query = exp.Union(this=query, expression=part, distinct=False)
    wrapped = exp.select(col("segment"), col("user_id"), col("variant")).from_(
        query.subquery("members", copy=False), copy=False
    )
    return ev.select(wrapped)
