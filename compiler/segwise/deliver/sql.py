"""The SQL of delivery, built with sqlglot for DuckDB and PostgreSQL.

Statements are written once as templates (in PostgreSQL's syntax) and parsed; their table
names are then replaced by the relations in the segwise schema and their `:placeholders` by
sqlglot literals (segwise.sql.literals), so no name or value is ever pasted into SQL text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from sqlglot import exp, parse_one

from segwise.deliver.changes import ChangeKey
from segwise.sql import literals
from segwise.sql.dialects import Target

DELIVERIES = "segwise_deliveries"
DEAD_LETTERS = "segwise_delivery_dead_letters"
CHANGES = "segment_changes"
TABLES = (DELIVERIES, DEAD_LETTERS, CHANGES)

TableNamer = Callable[[str], exp.Table]
Param = str | int | float | datetime | None

CREATE_DELIVERIES = f"""
CREATE TABLE IF NOT EXISTS {DELIVERIES} (
  endpoint TEXT NOT NULL PRIMARY KEY,
  last_changed_at TIMESTAMP,
  last_segment TEXT,
  last_user_id TEXT,
  last_change TEXT,
  lease_holder TEXT,
  lease_expires_at TIMESTAMP,
  updated_at TIMESTAMP NOT NULL
)"""

CREATE_DEAD_LETTERS = f"""
CREATE TABLE IF NOT EXISTS {DEAD_LETTERS} (
  endpoint TEXT NOT NULL,
  change_id TEXT NOT NULL,
  segment TEXT NOT NULL,
  user_id TEXT NOT NULL,
  changed_at TIMESTAMP NOT NULL,
  change TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  failed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (endpoint, change_id)
)"""

TABLE_EXISTS = """
SELECT COUNT(*) FROM information_schema.tables
WHERE table_schema = :schema AND table_name = :name"""

ENSURE_ROW = f"""
INSERT INTO {DELIVERIES} (endpoint, updated_at) VALUES (:endpoint, :now)
ON CONFLICT (endpoint) DO NOTHING"""

READ_STATE = f"""
SELECT last_changed_at, last_segment, last_user_id, last_change, lease_holder, lease_expires_at
FROM {DELIVERIES} WHERE endpoint = :endpoint"""

# The compare-and-set that takes a lease: free, expired, already ours, or held by a process
# that is known to be dead (`:stale`, the holder value read in the same transaction).
TAKE_LEASE = f"""
UPDATE {DELIVERIES} SET lease_holder = :holder, lease_expires_at = :until, updated_at = :now
WHERE endpoint = :endpoint
  AND (lease_holder IS NULL OR lease_expires_at IS NULL OR lease_expires_at < :now
       OR lease_holder = :holder OR lease_holder = :stale)"""

RENEW_LEASE = f"""
UPDATE {DELIVERIES} SET lease_expires_at = :until, updated_at = :now
WHERE endpoint = :endpoint AND lease_holder = :holder"""

# Inside a transaction that writes for the holder: fails (0 rows) when the lease is no longer
# ours, and on PostgreSQL locks the row until the transaction ends.
HOLDS_LEASE = f"""
UPDATE {DELIVERIES} SET updated_at = :now WHERE endpoint = :endpoint AND lease_holder = :holder"""

RELEASE_LEASE = f"""
UPDATE {DELIVERIES} SET lease_holder = NULL, lease_expires_at = NULL, updated_at = :now
WHERE endpoint = :endpoint AND lease_holder = :holder"""

MOVE_CURSOR = f"""
UPDATE {DELIVERIES}
SET last_changed_at = :changed_at, last_segment = :segment, last_user_id = :user_id, last_change = :change,
    updated_at = :now
WHERE endpoint = :endpoint AND lease_holder = :holder"""

DEAD_LETTER = f"""
INSERT INTO {DEAD_LETTERS}
  (endpoint, change_id, segment, user_id, changed_at, change, reason, attempts, last_error, failed_at)
VALUES (:endpoint, :change_id, :segment, :user_id, :changed_at, :change, :reason, :attempts, :last_error, :now)
ON CONFLICT (endpoint, change_id) DO UPDATE SET
  attempts = excluded.attempts, last_error = excluded.last_error, failed_at = excluded.failed_at"""

READ_DEAD_LETTERS = f"""
SELECT segment, user_id, changed_at, change, reason, attempts, last_error, failed_at
FROM {DEAD_LETTERS} WHERE endpoint = :endpoint"""

DELETE_DEAD_LETTERS = f"DELETE FROM {DEAD_LETTERS} WHERE endpoint = :endpoint AND change_id IN (:ids)"

FAILED_AGAIN = f"""
UPDATE {DEAD_LETTERS} SET attempts = attempts + :attempts, last_error = :last_error, failed_at = :now
WHERE endpoint = :endpoint AND change_id IN (:ids)"""


@functools.cache
def _template(text: str) -> exp.Expr:
    return parse_one(text, dialect="postgres")


def value(target: Target, v: Param) -> exp.Expr:
    """A Python value as a sqlglot literal."""
    if v is None:
        return exp.Null()
    if isinstance(v, datetime):
        return literals.timestamp(target, v)
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int | float):
        return literals.number(v)
    return literals.string(v)


class Statements:
    """SQL text for one target and one schema."""

    def __init__(self, target: Target, tables: TableNamer, schema: str) -> None:
        self.target, self.tables, self.schema = target, tables, schema

    def sql(self, tree: exp.Expr) -> str:
        return self.target.sql(tree, pretty=False, copy=False)

    def render(
        self,
        template: str,
        params: Mapping[str, Param] | None = None,
        lists: Mapping[str, Sequence[Param]] | None = None,
    ) -> str:
        """`template` with its tables qualified and its placeholders bound."""
        return self.bind(_template(template).copy(), params, lists)

    def bind(
        self,
        tree: exp.Expr,
        params: Mapping[str, Param] | None = None,
        lists: Mapping[str, Sequence[Param]] | None = None,
    ) -> str:
        """SQL text of `tree` (taken over) with its segwise tables qualified and its `:name`
        placeholders replaced by literals; a name in `lists` stands for a list (`IN (:ids)`)."""
        params, lists = params or {}, lists or {}

        def replace(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Table) and not node.args.get("db") and node.name in TABLES:
                return self.tables(node.name).copy()
            if isinstance(node, exp.In) and len(node.expressions) == 1:
                only = node.expressions[0]
                if isinstance(only, exp.Placeholder) and only.name in lists:
                    node.set("expressions", [value(self.target, v) for v in lists[only.name]])
                    return node
            if isinstance(node, exp.Placeholder):
                if node.name not in params:
                    raise KeyError(f"no value for :{node.name}")
                return value(self.target, params[node.name])
            return node

        return self.sql(tree.transform(replace, copy=False))

    def table_exists(self, name: str) -> str:
        return self.render(TABLE_EXISTS, {"schema": self.schema, "name": name})

    def dead_letters(self, endpoint: str, rows: Iterable[Mapping[str, Param]]) -> str:
        """One INSERT of several rows (each a mapping of DEAD_LETTER's placeholders)."""
        tree = _template(DEAD_LETTER).copy()
        values = tree.find(exp.Values)
        assert values is not None
        names = [p.name for p in values.expressions[0].find_all(exp.Placeholder)]
        tuples = [
            exp.Tuple(expressions=[value(self.target, {**row, "endpoint": endpoint}[n]) for n in names]) for row in rows
        ]
        values.set("expressions", tuples)
        return self.bind(tree)

    # --- reading the change log ----------------------------------------------------------

    def changes_after(
        self,
        segments: Iterable[str],
        changes: Iterable[str],
        include_definition: bool,
        after: ChangeKey | None,
        limit: int | None,
    ) -> str:
        """The endpoint's changes after `after` in delivery order (at most `limit`)."""
        query = exp.select(*(_col(c) for c in ("segment", "user_id", "changed_at", "change", "reason"))).from_(
            self.tables(CHANGES).copy(), copy=False
        )
        query = query.where(self._filter(segments, changes, include_definition, after), copy=False)
        query = query.order_by(*(self.target.ordered(_col(c)) for c in KEY_COLUMNS), copy=False)
        if limit is not None:
            query = query.limit(limit, copy=False)
        return self.sql(query)

    def count_after(
        self, segments: Iterable[str], changes: Iterable[str], include_definition: bool, after: ChangeKey | None
    ) -> str:
        query = exp.select(exp.Count(this=exp.Star())).from_(self.tables(CHANGES).copy(), copy=False)
        return self.sql(query.where(self._filter(segments, changes, include_definition, after), copy=False))

    def dead_letters_after(self, endpoint: str, after: ChangeKey | None, limit: int) -> str:
        tree = _template(READ_DEAD_LETTERS).copy()
        assert isinstance(tree, exp.Select)
        if after is not None:
            tree = tree.where(self._after(after), copy=False)
        tree = tree.order_by(*(self.target.ordered(_col(c)) for c in KEY_COLUMNS), copy=False)
        return self.bind(tree.limit(limit, copy=False), {"endpoint": endpoint})

    def _filter(
        self, segments: Iterable[str], changes: Iterable[str], include_definition: bool, after: ChangeKey | None
    ) -> exp.Expr:
        names = sorted(segments)
        conditions: list[exp.Expr] = [
            exp.In(this=_col("segment"), expressions=[literals.string(s) for s in names]) if names else exp.false(),
            exp.In(this=_col("change"), expressions=[literals.string(c) for c in sorted(changes)]),
        ]
        if not include_definition:
            conditions.append(exp.NEQ(this=_col("reason"), expression=literals.string("definition")))
        if after is not None:
            conditions.append(self._after(after))
        return exp.and_(*conditions, copy=False)

    def _after(self, key: ChangeKey) -> exp.Expr:
        """(changed_at, segment, user_id, change) > key, spelled out (no row comparison)."""
        values = [value(self.target, part) for part in key]
        condition: exp.Expr | None = None
        for column, literal in reversed(list(zip(KEY_COLUMNS, values, strict=True))):
            greater = exp.GT(this=_col(column), expression=literal.copy())
            if condition is None:
                condition = greater
            else:
                equal = exp.EQ(this=_col(column), expression=literal.copy())
                condition = exp.or_(greater, exp.and_(equal, condition, copy=False), copy=False)
        assert condition is not None
        return exp.paren(condition, copy=False)


KEY_COLUMNS = ("changed_at", "segment", "user_id", "change")


def _col(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name))
