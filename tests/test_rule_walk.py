"""The one tree walk of the AST (segwise.rules.walk): every node kind has a handler in every
pass, the walk and folds reach every node, and definition hashes are computed once per segment
in dependency order, whatever the shape and depth of the references."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

import segwise
from segwise.config import Project
from segwise.errors import CompileError
from segwise.loading.project import parse_segments_text
from segwise.rules import canonical, nodes, walk
from segwise.rules.order import dependency_order
from segwise.rules.predicates import CmpOp, Compare
from segwise.rules.values import ValueType
from segwise.rules.walk import Collector, Fold, Visitor
from tests.reference.strategies import TEST_CONFIG_JSON
from tests.support.projects import project_from_dicts

CONFIG = project_from_dicts(TEST_CONFIG_JSON, []).config


def _import_all() -> None:
    for module in pkgutil.walk_packages(segwise.__path__, "segwise."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    stack = [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__module__.startswith("segwise.") and sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def test_every_node_kind_has_a_handler_in_the_walk() -> None:
    kinds = set(typing.get_args(nodes.Condition))
    assert set(walk.HANDLERS) == kinds
    for base in (Visitor, Fold):
        abstract = set(base.__abstractmethods__)  # type: ignore[attr-defined]
        assert abstract == set(walk.HANDLERS.values()), f"{base.__name__} must declare one handler per node kind"


def test_every_pass_handles_every_node_kind() -> None:
    """A pass that lacks a handler stays abstract: it could never run, and this names it."""
    _import_all()
    passes = {cls for cls in _subclasses(Visitor) | _subclasses(Fold) if cls.__module__ != walk.__name__}
    assert len(passes) >= 5  # the plan, candidate edges, SQL, canonical form, config reads
    missing = {cls.__qualname__: sorted(cls.__abstractmethods__) for cls in passes if inspect.isabstract(cls)}
    assert missing == {}


RULE = """
segments:
  - name: a
    rule:
      all:
        - {trait: plan, eq: pro}
        - any:
            - {event: app_opened, within: 7d}
            - not: {in_segment: b}
            - all: [{near: {lat: 1, lon: 2, radius_km: 3}}, {rfm: {tier: champions}}]
        - sequence:
            steps: [{event: app_opened}, {event: order_completed, within: 1h, absent: true}]
  - name: b
    rule: {trait: country, eq: DE}
"""


def test_walk_visits_every_node_once_in_written_order() -> None:
    segments, _ = parse_segments_text(RULE, CONFIG)
    rule = segments[0].rule
    kinds = [type(n).__name__ for n in walk.walk(rule)]
    assert kinds == [
        "AllOf", "TraitCondition", "AnyOf", "EventCondition", "Not", "InSegment", "AllOf", "Near", "RfmCondition",
        "SequenceCondition",
    ]  # fmt: skip
    assert [r.segment for r in walk.references(rule)] == ["b"]

    class Depth(Fold[int]):
        def all_of(self, node: Any, items: list[int]) -> int:
            return 1 + max(items)

        any_of = all_of

        def not_(self, node: Any, item: int) -> int:
            return 1 + item

        def _leaf(self, node: Any) -> int:
            return 1

        trait = event = sequence = in_segment = near = rfm = predict = _leaf

    assert Depth().fold(rule) == 4  # all > any > all > near


def _nested(depth: int) -> nodes.Condition:
    cond: nodes.Condition = nodes.InSegment("b")
    for n in range(depth):
        cond = nodes.Not(cond) if n % 2 else nodes.AllOf((cond, nodes.InSegment("b")))
    return cond


def test_walk_and_fold_need_no_stack_for_depth() -> None:
    depth = sys.getrecursionlimit() * 3
    deep = _nested(depth)
    assert sum(1 for _ in walk.walk(deep)) == 1 + depth + (depth + 1) // 2

    class Count(Collector):
        def __init__(self) -> None:
            self.refs = 0

        def in_segment(self, node: Any) -> None:
            self.refs += 1

        def _none(self, node: Any) -> None:
            return None

        trait = event = sequence = near = rfm = predict = _none

    counter = Count()
    counter.collect(deep)
    assert counter.refs == 1 + (depth + 1) // 2


# --- definition hashes: once per segment, in dependency order ---------------------------------


def _project(segments: dict[str, nodes.Condition]) -> Project:
    return Project(CONFIG, {name: nodes.Segment(name, rule) for name, rule in segments.items()})


def _shape(kind: str, n: int) -> dict[str, nodes.Condition]:
    """n segments whose references form a chain, a double chain, a star, a tree, or none."""
    base = nodes.TraitCondition("plan", ValueType.STRING, _eq("pro"))
    out: dict[str, nodes.Condition] = {}
    for i in range(n):
        refs = {
            "chain": [i - 1],
            "two_before": [i - 1, i - 2],
            "star": [0] if i else [],
            "tree": [(i - 1) // 2],
            "none": [],
        }[kind]
        items = [nodes.InSegment(f"s{r:04d}") for r in refs if r >= 0]
        out[f"s{i:04d}"] = nodes.AllOf((base, *items)) if items else base
    return out


def _eq(value: str) -> Compare:
    return Compare(CmpOp.EQ, value)


@pytest.mark.parametrize("shape", ["chain", "two_before", "star", "tree", "none"])
def test_each_definition_is_hashed_once(monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    """22 segments each referencing the two before took 17 s when every hash recomputed its
    references' hashes; computed once each, 1,000 take the same work per segment."""
    project = _project(_shape(shape, 1000))
    calls: list[str] = []
    original = canonical.canonical_definition

    def counting(segment: nodes.Segment, p: Project, hashes: Any) -> Any:
        calls.append(segment.name)
        return original(segment, p, hashes)

    monkeypatch.setattr(canonical, "canonical_definition", counting)
    hashes = canonical.definition_hashes(project)
    assert sorted(calls) == sorted(project.segments)  # each exactly once
    assert set(hashes) == set(project.segments)


def test_hashes_follow_references() -> None:
    """Editing a segment changes its hash and every hash that references it, transitively,
    and nothing else."""
    shape = _shape("chain", 30)
    before = canonical.definition_hashes(_project(shape))
    shape["s0010"] = nodes.AllOf((shape["s0010"], nodes.TraitCondition("country", ValueType.STRING, _eq("DE"))))
    after = canonical.definition_hashes(_project(shape))
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == [f"s{i:04d}" for i in range(10, 30)]
    assert canonical.definition_hash(_project(shape).segments["s0020"], _project(shape)) == after["s0020"]


def test_a_chain_of_thousands_of_references_orders_without_recursion() -> None:
    project = _project(_shape("chain", 5000))
    ordered = dependency_order(project.segments, ["s4999"])
    assert [s.name for s in ordered] == sorted(project.segments)
    assert len(canonical.definition_hashes(project)) == 5000


def test_dependency_order_reports_cycles_and_unknown_names() -> None:
    a = nodes.InSegment("b")
    project = _project({"a": a, "b": nodes.InSegment("c"), "c": nodes.InSegment("a")})
    with pytest.raises(CompileError, match="cycle: a -> b -> c -> a"):
        dependency_order(project.segments, ["a"])
    with pytest.raises(CompileError, match="unknown segment 'x' \\(referenced by 'y'\\)"):
        dependency_order(_project({"y": nodes.InSegment("x")}).segments, ["y"])


def test_generate_writes_a_long_reference_chain(tmp_path: Path) -> None:
    """The models of 600 segments, each referencing the one before, generate (this used to
    raise RecursionError) and order every layer after the one it reads."""
    from segwise.dbt.files import model_files

    project = _project(_shape("chain", 600))
    files = model_files(project)
    sql = files["segment_membership.sql"]
    assert sql.count("sw_layer_600") >= 1 and "sw_layer_601" not in sql
