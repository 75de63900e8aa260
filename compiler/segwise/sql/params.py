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
from typing import ClassVar

from sqlglot import exp


class Param(StrEnum):
    """The run-time values a membership query may read."""

    AS_OF = "as_of"  # T
    PREV_AS_OF = "prev_as_of"  # the previous run's T
    LOADED_AFTER = "loaded_after"  # events loaded after this are new
    NEW_SINCE = "new_since"  # without loaded_at: events later than this are new
    UPDATED_AFTER = "updated_after"  # users updated after this changed
    INCREMENTAL = "incremental"  # TRUE in an incremental run, else FALSE
    STORE_LOADED_AFTER = "store_loaded_after"  # the event store holds every event loaded until this


class RunParameter(exp.Expression):
    """One of `Param`, by name: an instant, or a boolean for INCREMENTAL."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}

    @property
    def param(self) -> Param:
        return Param(self.this)


class ModelRelation(exp.Expression):
    """A relation the caller's tool names: `ref('name')` (source empty) or `source(source, name)`."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "source": False, "alias": False}


class CandidateScope(exp.Expression):
    """The restriction `this` to the run's candidate users, which holds for every user in a
    full run: the caller decides which of the two when it binds the run's mode, so the SQL a
    run executes holds only one of them (a planner keeps even a dead `TRUE OR <subquery>`)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class StateRelation(exp.Expression):
    """A table segwise keeps next to the model's (the event store), by its name."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "alias": False}


class StoreIngest(exp.Expression):
    """The test `this` that an event is new to the event store, which holds for every event
    when the run rebuilds the store: bound with the run's mode, like `CandidateScope`."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class Widened(exp.Expression):
    """TRUE when the run evaluates one of the segments (or groups, `kind`) named in `this`
    (comma-separated) for every user, because its definition changed; `this` empty: any. Bound with the
    run's definition changes (docs/incremental.md, 'Definition changes')."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "kind": True}


def widened(kind: str, names: list[str] | None = None) -> Widened:
    return Widened(this=",".join(sorted(names or [])), kind=kind)


def param(name: Param) -> RunParameter:
    return RunParameter(this=name.value)
