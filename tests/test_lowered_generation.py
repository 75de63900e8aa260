"""segwise writes the same SQL with or without its generator subclasses.

sqlglotc (`sqlglot[c]`, which `sqlglot[rs]` and so dagster-dbt install) compiles sqlglot's
generators, and a compiled class refuses Python subclasses: there, segwise lowers its own
nodes before sqlglot's stock generator runs (segwise.sql.nodes.lower). Here, with plain
sqlglot, every model file of the demos, of the golden constructs and of random projects must
come out byte for byte the same both ways, and so must the queries of `segwise compile`.
`make test-sqlglotc` checks the demos' models and runs the golden, differential and dbt tests
where sqlglotc is installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segwise.config import Project
from segwise.dbt.files import model_files
from segwise.errors import CompileError
from segwise.loading import load_project
from segwise.sql import dialects
from segwise.sql.params import Param, param
from tests.reference.strategies import TEST_CONFIG_FLAT, TEST_CONFIG_JSON, groups_for, segment_sets
from tests.support.projects import project_from_dicts

pytestmark = pytest.mark.skipif(
    not dialects.subclasses_work(),
    reason="compares with the subclassed way, which needs plain sqlglot; under sqlglotc, the rest of the suite "
    "checks the lowered way against the reference and the golden files",
)

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(
    path
    for root in ("demos/ecommerce", "demos/cdnow", "tests/golden/constructs")
    for path in (REPO / root).glob("segwise*.yml")
)


@contextmanager
def lowered() -> Iterator[None]:
    """Every target as under sqlglotc: sqlglot's own dialects, segwise's nodes lowered first."""
    saved = dict(dialects.TARGETS)
    dialects.TARGETS.update(dialects.make_targets(subclassed=False))
    try:
        yield
    finally:
        dialects.TARGETS.update(saved)


def both_ways(project: Project) -> tuple[dict[str, str], dict[str, str]]:
    subclassed = model_files(project)
    with lowered():
        assert dialects.get_target("snowflake").writer is dialects.Snowflake
        return subclassed, model_files(project)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_project_models_are_the_same_both_ways(config: Path) -> None:
    subclassed, lowered_files = both_ways(load_project(config))
    assert subclassed.keys() == lowered_files.keys()
    for name in subclassed:
        assert lowered_files[name] == subclassed[name], name


@settings(max_examples=30, deadline=None)
@given(data=st.data(), config=st.sampled_from([TEST_CONFIG_JSON, TEST_CONFIG_FLAT]))
def test_random_projects_are_the_same_both_ways(data: st.DataObject, config: dict[str, Any]) -> None:
    segments = data.draw(segment_sets(config))
    groups = data.draw(groups_for([s["name"] for s in segments]))
    subclassed, lowered_files = both_ways(project_from_dicts(config, segments, groups))
    assert lowered_files == subclassed


@pytest.mark.parametrize("subclassed", [True, False])
def test_an_unbound_parameter_fails_either_way(subclassed: bool) -> None:
    target = dialects.make_targets(subclassed)["postgres"]
    with pytest.raises(CompileError, match="unbound RUN_PARAMETER 'as_of'"):
        target.sql(param(Param.AS_OF))


@pytest.mark.parametrize("dialect", sorted(dialects.TARGETS))
def test_compiled_queries_are_the_same_both_ways(dialect: str) -> None:
    """The read-only path (`segwise compile`, preview, explain): every demo segment's query."""
    from datetime import datetime

    from segwise.sql.query import compile_segment

    project = load_project(REPO / "demos" / "ecommerce" / "segwise.yml")
    as_of = datetime(2025, 6, 1)
    for name in sorted(project.segments):
        subclassed = dialects.TARGETS[dialect].sql(compile_segment(project, name, dialect, as_of))
        with lowered():
            assert dialects.TARGETS[dialect].sql(compile_segment(project, name, dialect, as_of)) == subclassed, name
