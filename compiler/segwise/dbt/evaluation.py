"""The SQL of the `segment_membership` model: one query the materialization stages.

Its rows, `(kind, name, user_id, value)`:

    scope       -, user            a user this run re-evaluates (incremental runs only)
    segment     segment, user      a member, value = its variant
    group       group, user        value = the user's label in that group
    definition  segment, -         value = the segment's definition hash
    evaluated   users, -           value = how many users were evaluated
    watermark   loaded_at/updated_at   value = the largest value this run saw

Run-time values come from `segwise.context()` (macros/segwise_context.sql) as Jinja:
`sw.as_of` (T), `sw.prev_as_of`, the watermarks, and `sw.full_sql` (TRUE on full runs),
so the one generated file serves full and incremental runs alike.
"""

from __future__ import annotations

from sqlglot import exp

from segwise.config import Project
from segwise.rules.canonical import definition_hash
from segwise.sql import literals
from segwise.sql.candidates import Watermarks, candidates_query
from segwise.sql.conditions import segment_column
from segwise.sql.dialects import Template, get_target
from segwise.sql.holdout import variant
from segwise.sql.query import evaluation
from segwise.sql.relations import dbt as dbt_relations
from segwise.sql.staging import Restriction, col

AS_OF = "{{ sw.as_of }}"
PREV_AS_OF = "{{ sw.prev_as_of }}"
LOADED_AFTER = "{{ sw.loaded_after }}"
NEW_SINCE = "{{ sw.new_since }}"
UPDATED_AFTER = "{{ sw.updated_after }}"
FULL = "{{ sw.full_sql }}"
INCREMENTAL = "{{ sw.incremental_sql }}"


def _t(text: str) -> Template:
    return Template(this=text)


def _row(target_text: exp.DataType, kind: str, name: exp.Expr, user_id: exp.Expr, value: exp.Expr) -> exp.Select:
    """One branch of the rows union. Takes ownership of its (freshly built) arguments: with
    thousands of branches, copying them is most of the compile time."""

    def cast(e: exp.Expr, alias: str) -> exp.Expr:
        return exp.alias_(exp.cast(e, target_text.copy(), copy=False), alias, copy=False)

    return exp.select(
        exp.alias_(literals.string(kind), "kind", copy=False),
        cast(name, "name"),
        cast(user_id, "user_id"),
        cast(value, "value"),
        copy=False,
    )


def membership_model_sql(project: Project, dialect: str) -> exp.Select:
    target = get_target(dialect)
    text = target.type("text")
    names = sorted(project.segments)
    config = project.config
    marks = Watermarks(
        prev_as_of=_t(PREV_AS_OF),
        loaded_after=_t(LOADED_AFTER) if config.events.loaded_at else None,
        new_since=None if config.events.loaded_at else _t(NEW_SINCE),
        updated_after=_t(UPDATED_AFTER) if config.users.updated_at else None,
    )
    found = candidates_query(project, names, dialect, _t(AS_OF), marks, dbt_relations)
    candidates = (
        exp.select(col("user_id")).from_(found.subquery("c", copy=False), copy=False).where(_t(INCREMENTAL), copy=False)
    )
    restriction = Restriction(exp.select(col("user_id")).from_("sw_candidates", copy=False), unless=_t(FULL))
    ev = evaluation(project, names, dialect, _t(AS_OF), dbt_relations, restriction)

    null = exp.Null
    parts: list[exp.Select] = [_row(text, "scope", null(), col("user_id"), null()).from_("sw_candidates", copy=False)]
    for name in names:
        holdout = project.segments[name].holdout
        parts.append(
            _row(text, "segment", literals.string(name), col("user_id"), variant(target, col("user_id"), name, holdout))
            .from_(ev.final, copy=False)
            .where(col(segment_column(name)), copy=False)
        )
    for group in sorted(project.groups.values(), key=lambda g: g.name):
        label = exp.Case(
            ifs=[exp.If(this=col(segment_column(s)), true=literals.string(s)) for s in group.priority],
            default=literals.string(group.fallback) if group.fallback else None,
        )
        labelled = exp.select(col("user_id"), exp.alias_(label, "label")).from_(ev.final, copy=False)
        parts.append(
            _row(text, "group", literals.string(group.name), col("user_id"), col("label"))
            .from_(labelled.subquery("g", copy=False), copy=False)
            .where(exp.not_(exp.Is(this=col("label"), expression=exp.Null())), copy=False)
        )
    for name in names:
        digest = definition_hash(project.segments[name], project)
        parts.append(_row(text, "definition", literals.string(name), null(), literals.string(digest)))
    parts.append(
        _row(text, "evaluated", literals.string("users"), null(), exp.Count(this=exp.Star())).from_(
            ev.final, copy=False
        )
    )
    if config.events.loaded_at:
        loaded = exp.Max(this=col(config.events.loaded_at))
        parts.append(
            _row(text, "watermark", literals.string("loaded_at"), null(), loaded).from_(
                exp.alias_(dbt_relations(config.events.relation), "e", table=True), copy=False
            )
        )
    if config.users.updated_at:
        updated = exp.Max(this=col(config.users.updated_at))
        parts.append(
            _row(text, "watermark", literals.string("updated_at"), null(), updated).from_(
                exp.alias_(dbt_relations(config.users.relation), "u", table=True), copy=False
            )
        )
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False, copy=False)
    query = exp.select(col("kind"), col("name"), col("user_id"), col("value")).from_(
        union.subquery("sw_rows", copy=False), copy=False
    )
    query = query.with_("sw_candidates", as_=candidates, copy=False)
    return ev.select(query)
