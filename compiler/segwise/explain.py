"""`segwise explain`: why one user is in a segment or not, condition by condition.

One query, restricted to the user (`evaluation(..., candidates=<the user id>)`), selects the
per-user base row's numbers (features, traits, sequence flags, RFM values) and one boolean
column per node of the rule, each compiled with `condition_sql`, the function that compiles
membership itself. So every TRUE/FALSE in the tree is computed by the warehouse from the same
SQL as membership; nothing is re-implemented in Python. Columns are named by the node's
position in the tree: `sw_c` is the rule, `sw_c_1_0` the first item of its second item.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, assert_never

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree
from sqlglot import exp

from segwise.config import BUILTIN_TRAITS, Config, Project
from segwise.loading.yaml_source import YMap, YNode, YScalar, YSeq, load_yaml
from segwise.preview import key_values
from segwise.rules.describe import Written, describe
from segwise.rules.nodes import (
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    InSegment,
    Near,
    Not,
    PredictCondition,
    Regularity,
    RfmCondition,
    SequenceCondition,
    TraitCondition,
)
from segwise.rules.values import DURATION_RE, Duration, Location, format_iso
from segwise.rules.walk import children
from segwise.sql import literals
from segwise.sql.conditions import condition_sql, haversine_km, segment_column
from segwise.sql.dialects import Target, get_target
from segwise.sql.holdout import bucket, variant
from segwise.sql.plan import BUILTIN_FEATURES, measure_feature, period_features, sequence_column
from segwise.sql.predict import HISTORY_COLUMNS, score_column
from segwise.sql.query import RFM_COLUMNS, evaluation
from segwise.sql.relations import Resolver
from segwise.sql.staging import col, table, trait_column
from segwise.warehouse.base import Warehouse


@dataclass(frozen=True)
class Fact:
    """A number that decided a node: a count, an average, a trait value, a distance, ..."""

    label: str
    value: Any  # None = missing; a tuple for per-period counts
    flag: bool = False  # shown as yes/no


@dataclass(frozen=True)
class NodeResult:
    path: tuple[int, ...]
    column: str
    text: str  # the condition as written, in short
    value: bool
    facts: tuple[Fact, ...]
    children: tuple[NodeResult, ...]
    loc: Location | None = field(default=None, compare=False)

    def at(self, *path: int) -> NodeResult:
        """The node at `path` below this one: `root.at(1, 0)`."""
        node = self
        for i in path:
            node = node.children[i]
        return node

    def fact(self, label: str) -> Any:
        return next(f.value for f in self.facts if f.label == label)


@dataclass(frozen=True)
class Explanation:
    segment: str
    user_id: str
    as_of: datetime
    dialect: str
    holdout: int
    in_universe: bool
    has_users_row: bool
    events: int  # the user's events at or before T (deduplicated)
    member: bool
    variant: str | None  # a member's variant; None without a holdout or when not a member
    bucket: int | None  # the holdout bucket (0-99), None without a holdout
    root: NodeResult | None  # None when the user is not in the universe
    seconds: float
    sql: str


# --- the query ------------------------------------------------------------------------------


@dataclass
class _Slot:
    path: tuple[int, ...]
    cond: Condition
    column: int  # index of the node's boolean among the selected columns
    facts: list[tuple[str, list[int], bool]]
    children: list[_Slot]


class _Columns:
    def __init__(self) -> None:
        self.exprs: list[exp.Expr] = []

    def add(self, e: exp.Expr, name: str) -> int:
        self.exprs.append(exp.alias_(e, name))
        return len(self.exprs) - 1


def _name(path: tuple[int, ...]) -> str:
    return "_".join(["sw_c", *map(str, path)])


def _facts(config: Config, cond: Condition) -> list[tuple[str, list[exp.Expr], bool]]:
    """The base-row values a node's truth depends on, labelled as the tree shows them."""

    def column(name: str) -> list[exp.Expr]:
        return [col(name)]

    match cond:
        case AllOf() | AnyOf() | Not():
            return []
        case TraitCondition(trait=trait):
            name = BUILTIN_FEATURES[trait].column if trait in BUILTIN_TRAITS else trait_column(trait)
            return [(trait, column(name), False)]
        case EventCondition(measure=measure):
            if isinstance(measure, Regularity):
                periods: list[exp.Expr] = [col(f.column) for f in period_features(cond, measure)]
                return [("events per period, newest first", periods, False)]
            name = f"{measure.fn.value}({measure.property})" if measure.property else measure.fn.value
            return [(name, column(measure_feature(cond, measure).column), False)]
        case SequenceCondition():
            return [("matched", column(sequence_column(cond)), True)]
        case InSegment(segment=name):
            return [(f"member of {name}", column(segment_column(name)), True)]
        case Near(lat=lat, lon=lon):
            geo = config.users.geo
            assert geo is not None  # validated
            lat_col, lon_col = col(trait_column(geo.lat)), col(trait_column(geo.lon))
            return [
                ("distance_km", [haversine_km(lat_col, lon_col, lat, lon)], False),
                (geo.lat, column(trait_column(geo.lat)), False),
                (geo.lon, column(trait_column(geo.lon)), False),
            ]
        case RfmCondition():
            return [(c, column(f"rfm_{c}"), False) for c in RFM_COLUMNS]
        case PredictCondition(score=score, within=within):
            history = [(name, column(c), False) for name, c in HISTORY_COLUMNS.items()]
            return [*history, (score.value, column(score_column(score, within)), False)]
        case _:
            assert_never(cond)


def _slot(target: Target, config: Config, cond: Condition, path: tuple[int, ...], t: exp.Expr, out: _Columns) -> _Slot:
    column = out.add(condition_sql(target, config, cond, t), _name(path))
    facts = []
    for n, (label, exprs, flag) in enumerate(_facts(config, cond)):
        facts.append((label, [out.add(e, f"{_name(path)}_f{n}_{i}") for i, e in enumerate(exprs)], flag))
    slots = [_slot(target, config, c, (*path, i), t, out) for i, c in enumerate(children(cond))]
    return _Slot(path, cond, column, facts, slots)


@dataclass(frozen=True)
class ExplainQuery:
    """The query and where each value lands among its columns."""

    select: exp.Select
    root: _Slot
    member: int
    variant: int
    bucket: int | None
    users_row: int
    events: int


def explain_query(
    project: Project, name: str, dialect: str, as_of: datetime, user_id: str, resolver: Resolver | None = None
) -> ExplainQuery:
    target = get_target(dialect)
    t = literals.timestamp(target, as_of)
    uid = literals.string(user_id)
    candidates = exp.select(exp.alias_(uid.copy(), "user_id"))
    ev = evaluation(project, [name], dialect, as_of, resolver, candidates=candidates)
    segment = project.segments[name]
    out = _Columns()
    member = out.add(col(segment_column(name)), "sw_member")
    variant_at = out.add(variant(target, col("user_id"), name, segment.holdout), "sw_variant")
    bucket_at = out.add(bucket(target, col("user_id"), name), "sw_bucket") if segment.holdout > 0 else None

    def count(relation: str) -> exp.Expr:
        return exp.select(exp.Count(this=exp.Star())).from_(relation).subquery(copy=False)

    users_row = out.add(count("sw_users"), "sw_users_rows")
    events = out.add(count("sw_events"), "sw_user_events")
    root = _slot(target, project.config, segment.rule, (), t, out)
    select = (
        exp.select(*out.exprs)
        .from_(table(ev.final), copy=False)
        .where(exp.EQ(this=col("user_id"), expression=uid.copy()), copy=False)
    )
    return ExplainQuery(ev.select(select), root, member, variant_at, bucket_at, users_row, events)


# --- the rule as written ---------------------------------------------------------------------


class WrittenDurations:
    """Durations as the author wrote them, read back from the segment files by each node's
    location (`48h` and `2d` are one Duration; the tree shows what the file says)."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self.texts = dict(texts or {})  # file -> text, for files not on disk (--file is)
        self.maps: dict[str, dict[tuple[int, int], YMap]] = {}

    def _maps(self, file: str) -> dict[tuple[int, int], YMap]:
        if file not in self.maps:
            found: dict[tuple[int, int], YMap] = {}
            text = self.texts.get(file)
            if text is None:
                try:
                    with open(file, encoding="utf-8") as handle:
                        text = handle.read()
                except OSError:
                    text = ""
            root, _ = load_yaml(text, file) if text else (None, [])
            stack: list[YNode] = [root] if root is not None else []
            while stack:
                node = stack.pop()
                if isinstance(node, YMap):
                    found[(node.line, node.col)] = node
                    stack.extend(value for _, value in node.entries.values())
                elif isinstance(node, YSeq):
                    stack.extend(node.items)
            self.maps[file] = found
        return self.maps[file]

    def at(self, loc: Location | None) -> Written:
        """seconds -> text of every duration written inside the condition at `loc`."""
        node = self._maps(loc.file).get((loc.line, loc.col)) if loc is not None else None
        written: dict[int, str] = {}
        stack: list[YNode] = [node] if node is not None else []
        while stack:
            item = stack.pop()
            if isinstance(item, YScalar) and isinstance(item.value, str) and DURATION_RE.match(item.value):
                written.setdefault(Duration.parse(item.value).seconds, item.value)
            elif isinstance(item, YMap):
                stack.extend(reversed([value for _, value in item.entries.values()]))
            elif isinstance(item, YSeq):
                stack.extend(reversed(item.items))
        return written


# --- running it -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Driver values as plain Python: Decimal as int/float, aware timestamps as naive UTC."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _truth(value: Any) -> bool:
    return bool(value) if value is not None else False


def _result(slot: _Slot, row: tuple[Any, ...], written: WrittenDurations) -> NodeResult:
    facts = []
    for label, columns, flag in slot.facts:
        values = [_plain(row[i]) for i in columns]
        facts.append(Fact(label, _truth(values[0]) if flag else values[0] if len(values) == 1 else tuple(values), flag))
    return NodeResult(
        path=slot.path,
        column=_name(slot.path),
        text=describe(slot.cond, written.at(getattr(slot.cond, "loc", None))),
        value=_truth(row[slot.column]),
        facts=tuple(facts),
        children=tuple(_result(c, row, written) for c in slot.children),
        loc=getattr(slot.cond, "loc", None),
    )


def explain_result(
    project: Project,
    name: str,
    user_id: str,
    warehouse: Warehouse,
    as_of: datetime,
    *,
    resolver: Resolver | None = None,
    sources: dict[str, str] | None = None,
) -> Explanation:
    """Every condition of NAME's rule for `user_id` at `as_of`, evaluated by `warehouse`.

    `sources` (file -> text) supplies segment files that are not on disk, so the tree can show
    durations as written there."""
    target = get_target(warehouse.dialect)
    q = explain_query(project, name, warehouse.dialect, as_of, user_id, resolver)
    sql = target.sql(q.select)
    started = time.perf_counter()
    rows = warehouse.query(sql)
    seconds = time.perf_counter() - started
    holdout = project.segments[name].holdout
    if not rows:
        return Explanation(
            segment=name,
            user_id=user_id,
            as_of=as_of,
            dialect=warehouse.dialect,
            holdout=holdout,
            in_universe=False,
            has_users_row=False,
            events=0,
            member=False,
            variant=None,
            bucket=None,
            root=None,
            seconds=seconds,
            sql=sql,
        )
    row = rows[0]
    member = _truth(row[q.member])
    return Explanation(
        segment=name,
        user_id=user_id,
        as_of=as_of,
        dialect=warehouse.dialect,
        holdout=holdout,
        in_universe=True,
        has_users_row=int(_plain(row[q.users_row])) > 0,
        events=int(_plain(row[q.events])),
        member=member,
        variant=str(row[q.variant]) if member and row[q.variant] is not None else None,
        bucket=int(_plain(row[q.bucket])) if q.bucket is not None else None,
        root=_result(q.root, row, WrittenDurations(sources)),
        seconds=seconds,
        sql=sql,
    )


# --- printing -------------------------------------------------------------------------------------


def value_text(value: Any, flag: bool = False) -> str:
    if flag:
        return "yes" if value else "no"
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return format_iso(value) + (f".{value.microsecond:06d}" if value.microsecond else "")
    if isinstance(value, tuple):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return str(value)


def node_line(node: NodeResult) -> str:
    """`TRUE  event product_viewed within 48h count >= 3  (count = 4)`, without markup."""
    facts = ", ".join(f"{f.label} = {value_text(f.value, f.flag)}" for f in node.facts)
    return f"{'TRUE ' if node.value else 'FALSE'}  {node.text}" + (f"  ({facts})" if facts else "")


def _label(node: NodeResult) -> str:
    line = escape(node_line(node))
    colour = "green" if node.value else "red"
    word = "TRUE " if node.value else "FALSE"
    return f"[bold {colour}]{word}[/bold {colour}]" + line[len(word) :]


def _tree(node: NodeResult, tree: Tree | None = None) -> Tree:
    branch = Tree(_label(node), guide_style="dim") if tree is None else tree.add(_label(node))
    for child in node.children:
        _tree(child, branch)
    return branch


def verdict_text(result: Explanation) -> str:
    holdout = f" (holdout {result.holdout}%, bucket {result.bucket})" if result.bucket is not None else ""
    if result.member:
        return f"IN{' · ' + result.variant if result.variant else ''}{holdout}"
    return f"OUT{holdout}"


def render_explanation(result: Explanation, target: str | None = None) -> RenderableType:
    source = "users row" if result.has_users_row else "no users row"
    colour = "green" if result.member else "red"
    header = key_values(
        [
            ("segment", escape(result.segment)),
            ("user", escape(value_text(result.user_id))),
            ("T", f"{format_iso(result.as_of)} (UTC)"),
            ("target", escape(f"{target} ({result.dialect})" if target else result.dialect)),
            ("universe", f"yes ({source}, {result.events:,} events at or before T)"),
            ("verdict", f"[bold {colour}]{escape(verdict_text(result))}[/bold {colour}]"),
        ]
    )
    parts: list[RenderableType] = [header, ""]
    if result.root is not None:
        parts.append(_tree(result.root))
    parts.append(Text(f"elapsed {result.seconds:.2f} s", style="dim"))
    return RichGroup(*parts)
