"""The SQL of the `segment_membership` model: one query the materialization stages.

Its rows, `(kind, name, user_id, value)`:

    scope       -, user            a user this run re-evaluates (incremental runs only)
    segment     segment, user      a member, value = its variant
    group       group, user        value = the user's label in that group
    definition  segment, -         value = the segment's definition hash
    evaluated   users, -           value = how many users were evaluated
    watermark   loaded_at/updated_at   value = the largest value this run saw
    rfm         monetary, user     value = the user's other RFM values (segwise_rfm_state)
    reason      reason, -          value = how many candidates it found (incremental runs)

Events are read from the event store (segwise.sql.event_store), which the materialization
brings up to date first from `store_rows_model_sql`.

Run-time values are parameters (segwise.sql.params), which `segwise.dbt.jinja` writes as
the Jinja of `segwise.context()` (macros/segwise_context.sql): T, the previous run's T, the
watermarks and the run's mode, so the one generated file serves full and incremental runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from segwise.config import Project
from segwise.sql import literals
from segwise.sql.candidates import REASONS, Watermarks, candidates_query, rfm_text
from segwise.sql.conditions import segment_column
from segwise.sql.dialects import Target, get_target
from segwise.sql.event_store import STORE, new_events, store_rows, store_spec
from segwise.sql.holdout import variant
from segwise.sql.params import Param, StateRelation, StoreIngest, param, widened
from segwise.sql.plan import Horizon, build_plan
from segwise.sql.predict import MODELS_TABLE
from segwise.sql.query import Evaluation, evaluation
from segwise.sql.relations import for_models
from segwise.sql.staging import Restriction, Widening, alias, col, relevant_sql, table

RFM_STATE = "segwise_rfm_state"


def _header(target: Target) -> exp.Select:
    """The first branch of the rows union, which names and types its columns; the others are
    text already (string literals, text user ids, variants) or cast to text where they are
    built (counts, watermarks). Bare branches keep a 1,000-segment model at half the size."""
    null = target.cast(exp.Null(), "text")
    return _row("scope", null, col("user_id"), null.copy(), first=True).from_(table("sw_candidates"), copy=False)


def _row(kind: str, name: exp.Expr, user_id: exp.Expr, value: exp.Expr, first: bool = False) -> exp.Select:
    """One branch of the rows union. Takes ownership of its (freshly built) arguments: with
    thousands of branches, copying them is most of the compile time."""
    cells = [literals.string(kind), name, user_id, value]
    if first:
        cells = [alias(cell, column) for cell, column in zip(cells, ("kind", "name", "user_id", "value"), strict=True)]
    return exp.Select(expressions=cells)


def _widening(project: Project, target: Target, as_of: exp.Expr) -> Widening:
    """The events a run reads beyond its candidates' for the segments whose definitions
    changed (docs/incremental.md): per event name and horizon, the segments that read it
    (with what they reference), each a test of the run's list of such segments."""
    everything: list[str] = []  # segments reading the built-in traits, of every event
    reads: dict[tuple[str, Horizon], list[str]] = {}
    for name in sorted(project.segments):
        plan = build_plan(project, [name])
        if any(f.filter is None for f in plan.features):
            everything.append(name)
            continue
        for event, horizon in plan.event_horizons.items():
            reads.setdefault((event, horizon), []).append(name)

    def events(event_name: exp.Expr, ts: exp.Expr) -> exp.Expr:
        terms: list[exp.Expr] = [widened("segments", everything)] if everything else []
        for (event, horizon), segments in sorted(reads.items(), key=repr):
            relevant = relevant_sql(target, {event: horizon}, event_name, ts, as_of)
            terms.append(exp.and_(widened("segments", segments), relevant, copy=False))
        return exp.paren(exp.or_(*terms, copy=False)) if terms else exp.false()

    return Widening(users=widened("segments"), events=events)


# sw_scoped: the evaluation's rows, and whether the user is one of the run's candidates
# (every user in a full run); the others are evaluated only for the widened segments.
IN_SCOPE = "sw_in_scope"


def scoped(ev: Evaluation, restriction: Restriction, target: Target) -> Evaluation:
    in_scope = restriction.condition(target, col("user_id"))  # the candidates alone, not widened
    rows = exp.Select(expressions=[exp.Star(), alias(in_scope, IN_SCOPE)])
    rows.set("from_", exp.From(this=table(ev.final)))
    return Evaluation(ev.plan, [*ev.ctes, ("sw_scoped", rows)], "sw_scoped")


def _in_scope(kind: str, name: str) -> exp.Expr:
    """A row of this segment (or group) is this run's to write: its user is a candidate, or
    the run evaluates it for every user."""
    return exp.paren(exp.or_(col(IN_SCOPE), widened(kind, [name]), copy=False))


def membership_model_sql(project: Project, dialect: str, hashes: Mapping[str, str]) -> exp.Select:
    """`hashes`: each segment's definition hash (computed once for all dialects)."""
    target = get_target(dialect)
    names = sorted(project.segments)
    config = project.config
    marks = Watermarks(
        prev_as_of=param(Param.PREV_AS_OF),
        loaded_after=param(Param.LOADED_AFTER) if config.events.loaded_at else None,
        new_since=None if config.events.loaded_at else param(Param.NEW_SINCE),
        updated_after=param(Param.UPDATED_AFTER) if config.users.updated_at else None,
    )
    store = StateRelation(this=STORE)
    rfm_state = StateRelation(this=RFM_STATE)
    found = candidates_query(project, names, dialect, param(Param.AS_OF), marks, for_models, store.copy(), rfm_state)
    candidates = (
        exp.select(col("user_id"), *(col(r) for r in REASONS))
        .from_(found.subquery("c", copy=False), copy=False)
        .where(param(Param.INCREMENTAL), copy=False)
    )
    restriction = Restriction(
        exp.select(col("user_id")).from_(table("sw_candidates"), copy=False),
        full_runs=True,
        widen=_widening(project, target, param(Param.AS_OF)),
    )
    models = StateRelation(this=MODELS_TABLE)
    ev = evaluation(project, names, dialect, param(Param.AS_OF), for_models, restriction, store.copy(), models)
    ev = scoped(ev, restriction, target)

    parts: list[exp.Select] = [_header(target)]
    for name in names:
        holdout = project.segments[name].holdout
        chosen = variant(target, col("user_id"), name, holdout) if holdout > 0 else exp.Null()
        member = _row("segment", literals.string(name), col("user_id"), chosen)
        member.set("from_", exp.From(this=table(ev.final)))
        member.set("where", exp.Where(this=exp.and_(col(segment_column(name)), _in_scope("segments", name))))
        parts.append(member)
    for group in sorted(project.groups.values(), key=lambda g: g.name):
        label = exp.Case(
            ifs=[exp.If(this=col(segment_column(s)), true=literals.string(s)) for s in group.priority],
            default=literals.string(group.fallback) if group.fallback else None,
        )
        labelled = exp.select(col("user_id"), col(IN_SCOPE), alias(label, "label")).from_(table(ev.final), copy=False)
        labelled_in_scope = exp.and_(
            exp.not_(exp.Is(this=col("label"), expression=exp.Null())), _in_scope("groups", group.name)
        )
        parts.append(
            _row("group", literals.string(group.name), col("user_id"), col("label"))
            .from_(labelled.subquery("g", copy=False), copy=False)
            .where(labelled_in_scope, copy=False)
        )
    for reason in REASONS:  # how many candidates each reason found (a user may have several)
        count = target.cast(exp.Coalesce(this=exp.Sum(this=col(reason)), expressions=[exp.Literal.number(0)]), "text")
        parts.append(
            _row("reason", literals.string(reason), exp.Null(), count).from_(table("sw_candidates"), copy=False)
        )
    if ev.plan.uses_rfm:  # every buyer's values, for the next run to compare with
        money = target.cast(col("monetary"), "text")
        parts.append(_row("rfm", money, col("user_id"), rfm_text(target)).from_(table("sw_rfm"), copy=False))
    for name in names:
        parts.append(_row("definition", literals.string(name), exp.Null(), literals.string(hashes[name])))
    parts.append(
        _row("evaluated", literals.string("users"), exp.Null(), target.cast(exp.Count(this=exp.Star()), "text")).from_(
            table(ev.final), copy=False
        )
    )
    if config.events.loaded_at:
        loaded = exp.Max(this=col("loaded_at"))
        parts.append(
            _row("watermark", literals.string("loaded_at"), exp.Null(), target.cast(loaded, "text")).from_(
                exp.alias_(store.copy(), "e", table=True), copy=False
            )
        )
    if config.users.updated_at:
        updated = exp.Max(this=col(config.users.updated_at))
        parts.append(
            _row("watermark", literals.string("updated_at"), exp.Null(), target.cast(updated, "text")).from_(
                exp.alias_(for_models(config.users.relation), "u", table=True), copy=False
            )
        )
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.Union(this=union, expression=part, distinct=False)
    query = exp.select(col("kind"), col("name"), col("user_id"), col("value")).from_(
        union.subquery("sw_rows", copy=False), copy=False
    )
    query = query.with_("sw_candidates", as_=candidates, copy=False)
    return ev.select(query)


def store_rows_model_sql(project: Project, dialect: str) -> exp.Select:
    """The event store's new rows (segwise.sql.event_store): every event when the run
    rebuilds the store, else those loaded after its watermark (or within the lookback)."""
    target = get_target(dialect)
    new = new_events(target, project, param(Param.STORE_LOADED_AFTER), param(Param.NEW_SINCE))
    return store_rows(target, project, store_spec(project), for_models, StoreIngest(this=new))
