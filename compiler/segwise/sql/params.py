"""Typed parameters of a query: values only the caller knows when the query runs.

The SQL layer builds queries that know nothing of dbt. Where a value is not known when the
query is built (the run's T, the previous run's T and watermarks, whether the run is full),
or where a relation is named by the caller's tool rather than by a table name (`ref('x')`),
it emits one of these nodes. The caller binds them: the dbt layer renders each as the Jinja
of its model file (`segwise.dbt.jinja`), `segwise compile` and the tests pass literal values
instead. A node left unbound is a CompileError, not SQL that silently means something else.
"""

from __future__ import annotations

from enum import StrEnum

from sqlglot import exp

from segwise.sql import nodes


class Param(StrEnum):
    """The run-time values a membership query may read."""

    AS_OF = "as_of"  # T
    PREV_AS_OF = "prev_as_of"  # the previous run's T
    LOADED_AFTER = "loaded_after"  # events loaded after this are new
    NEW_SINCE = "new_since"  # without loaded_at: events later than this are new
    UPDATED_AFTER = "updated_after"  # users updated after this changed
    INCREMENTAL = "incremental"  # TRUE in an incremental run, else FALSE
    STORE_LOADED_AFTER = "store_loaded_after"  # the event store holds every event loaded until this


# The nodes (segwise.sql.nodes: named Anonymous nodes, as sqlglotc admits no subclass), each
# made by the function of its kind's name.
RUN_PARAMETER = "RUN_PARAMETER"
MODEL_RELATION = "MODEL_RELATION"
CANDIDATE_SCOPE = "CANDIDATE_SCOPE"
STATE_RELATION = "STATE_RELATION"
STORE_INGEST = "STORE_INGEST"
WIDENED = "WIDENED"
PARAMETER_KINDS = (RUN_PARAMETER, MODEL_RELATION, CANDIDATE_SCOPE, STATE_RELATION, STORE_INGEST, WIDENED)


def RunParameter(this: str) -> exp.Anonymous:
    """One of `Param`, by name (the operand): an instant, or a boolean for INCREMENTAL."""
    return nodes.make(RUN_PARAMETER, this)


def ModelRelation(this: str, source: str | None = None, alias: exp.Expr | None = None) -> exp.Anonymous:
    """A relation the caller's tool names: `ref('name')` (source empty) or `source(source, name)`."""
    return nodes.make(MODEL_RELATION, this, source=source, alias=alias)


def CandidateScope(this: exp.Expr) -> exp.Anonymous:
    """The restriction `this` to the run's candidate users, which holds for every user in a
    full run: the caller decides which of the two when it binds the run's mode, so the SQL a
    run executes holds only one of them (a planner keeps even a dead `TRUE OR <subquery>`)."""
    return nodes.make(CANDIDATE_SCOPE, this)


def StateRelation(this: str, alias: exp.Expr | None = None) -> exp.Anonymous:
    """A table segwise keeps next to the model's (the event store), by its name."""
    return nodes.make(STATE_RELATION, this, alias=alias)


def StoreIngest(this: exp.Expr) -> exp.Anonymous:
    """The test `this` that an event is new to the event store, which holds for every event
    when the run rebuilds the store: bound with the run's mode, like `CandidateScope`."""
    return nodes.make(STORE_INGEST, this)


def widened(kind: str, names: list[str] | None = None) -> exp.Anonymous:
    """TRUE when the run evaluates one of the segments (or groups, `kind`) named (the operand,
    comma-separated) for every user, because its definition changed; none named: any. Bound
    with the run's definition changes (docs/incremental.md, 'Definition changes')."""
    return nodes.make(WIDENED, ",".join(sorted(names or [])), kind=kind)


def param(name: Param) -> exp.Anonymous:
    return RunParameter(name.value)
