"""A plain `dbt build` refuses models generated from other definitions than the segment files
hold (the dbt plugin `dbt_segwise`), naming what changed and running nothing; `segwise build`
validates, generates and builds in one command. On DuckDB, dbt in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segwise.cli import main as segwise_cli
from segwise.dbt import staleness
from tests.dbt_layer.harness import DbtProject
from tests.reference.strategies import TEST_CONFIG_JSON

T = datetime(2025, 6, 1, 12, 0, 0)
SEGMENTS = [
    {"name": "viewers", "rule": {"event": "product_viewed", "within": "7d"}},
    {"name": "pro", "rule": {"trait": "plan", "eq": "pro"}, "description": "On the pro plan"},
]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[DbtProject]:
    p = DbtProject(tmp_path / "p", "duckdb")
    p.configure(json.loads(json.dumps(TEST_CONFIG_JSON)), SEGMENTS)
    users = [{"user_id": f"u{i}", "plan": "pro" if i % 2 else "free"} for i in range(6)]
    events = [
        {"user_id": f"u{i}", "event_name": "product_viewed", "occurred_at": T, "loaded_at": T, "event_id": f"e{i}",
         "properties": "{}"}
        for i in range(3)
    ]  # fmt: skip
    p.load(users, events)
    ok, message = p.dbt("build", as_of=T)
    assert ok, message
    yield p
    p.close()


def _write_segments(project: DbtProject, segments: list[dict[str, Any]]) -> None:
    (project.root / "segments" / "all.yml").write_text(json.dumps({"segments": segments}, indent=1))


def _state(project: DbtProject) -> dict[str, list[tuple[Any, ...]]]:
    return {t: project.rows(t) for t in ("segment_membership", "segwise_runs", "segment_changes")}


def test_an_edited_segment_stops_dbt_build_naming_it_and_changes_nothing(project: DbtProject) -> None:
    before = _state(project)
    models = {p: p.read_text() for p in (project.root / "models").rglob("*") if p.is_file()}
    _write_segments(project, [{**SEGMENTS[0], "rule": {"event": "product_viewed", "within": "1d"}}, SEGMENTS[1]])

    ok, message = project.dbt("build", as_of=T.replace(hour=13))
    assert not ok
    assert "segment 'viewers' edited (segments/all.yml:" in message, message
    assert "'pro'" not in message  # unchanged segments are not named
    assert "segwise generate" in message and "segwise build" in message
    assert _state(project) == before  # no model ran: no run row, no membership change
    assert {p: p.read_text() for p in (project.root / "models").rglob("*") if p.is_file()} == models

    for command in ("run", "test", "compile"):
        ok, message = project.dbt(command, as_of=T)
        assert not ok and "segment 'viewers' edited" in message, command


def test_added_and_removed_segments_are_named(project: DbtProject) -> None:
    _write_segments(project, [SEGMENTS[0], {"name": "free", "rule": {"trait": "plan", "eq": "free"}}])
    ok, message = project.dbt("build", as_of=T)
    assert not ok
    assert "segment 'free' added (segments/all.yml:" in message and "segment 'pro' removed" in message, message


def test_a_description_change_is_stale_too_and_names_the_files(project: DbtProject) -> None:
    _write_segments(project, [SEGMENTS[0], {**SEGMENTS[1], "description": "Pays for pro"}])
    ok, message = project.dbt("build", as_of=T)
    assert not ok
    assert "generated files differ" in message and "_segwise.yml" in message, message


def test_invalid_definitions_stop_dbt_with_the_located_error(project: DbtProject) -> None:
    _write_segments(project, [{"name": "pro", "rule": {"trait": "plna", "eq": "pro"}}])
    ok, message = project.dbt("build", as_of=T)
    assert not ok
    assert "segments/all.yml" in message and "did you mean 'plan'?" in message, message


def test_the_escape_hatch_runs_the_old_models(project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_segments(project, [SEGMENTS[0]])
    monkeypatch.setenv("SEGWISE_SKIP_STALE_CHECK", "1")
    ok, message = project.dbt("build", as_of=T)
    assert ok, message


def test_generate_makes_it_current_and_unchanged_files_skip_the_full_check(
    project: DbtProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_segments(project, [SEGMENTS[0]])
    assert CliRunner().invoke(segwise_cli, ["generate", "--project-dir", str(project.root)]).exit_code == 0
    calls: list[Path] = []
    full_check = staleness.staleness

    def counted(config: Path, root: Path) -> Any:
        calls.append(config)
        return full_check(config, root)

    monkeypatch.setattr(staleness, "staleness", counted)
    for hour in (13, 14):  # later runs: the removed segment's members leave
        ok, message = project.dbt("build", as_of=T.replace(hour=hour))
        assert ok, message
    assert calls == []  # generate recorded the files as checked: a fingerprint comparison only
    (project.root / "segments" / "all.yml").write_text((project.root / "segments" / "all.yml").read_text() + "\n# c\n")
    ok, message = project.dbt("build", as_of=T.replace(hour=15))
    assert ok, message  # a comment changes no model: the full check runs once and passes
    assert len(calls) == 1


def test_segwise_build_validates_generates_and_builds(project: DbtProject, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_segments(project, [*SEGMENTS, {"name": "free", "rule": {"trait": "plan", "eq": "free"}}])
    monkeypatch.chdir(project.root)
    vars_ = json.dumps({"segwise_as_of": "2025-06-01T13:00:00"})
    result = CliRunner().invoke(segwise_cli, ["build", "--profiles-dir", str(project.root), "--vars", vars_, "-q"])
    assert result.exit_code == 0, result.output
    assert "segwise: 3 segments valid" in result.output
    assert ("free", "u0") in project.rows("segment_membership", "segment, user_id")
    assert project.rows("segwise_runs", "count(*)") == [(2,)]

    _write_segments(project, [{"name": "pro", "rule": {"trait": "plna", "eq": "pro"}}])
    models = {p: p.read_text() for p in (project.root / "models").rglob("*") if p.is_file()}
    result = CliRunner().invoke(segwise_cli, ["build", "--profiles-dir", str(project.root), "--vars", vars_])
    assert result.exit_code == 1
    assert "did you mean 'plan'?" in result.output and "dbt not started" in result.output
    assert {p: p.read_text() for p in (project.root / "models").rglob("*") if p.is_file()} == models
    assert project.rows("segwise_runs", "count(*)") == [(2,)]


def test_segwise_build_passes_dbt_failures_through(project: DbtProject) -> None:
    result = CliRunner().invoke(
        segwise_cli,
        ["build", "--project-dir", str(project.root), "--profiles-dir", str(project.root), "--select", "nonexistent+"],
    )
    assert result.exit_code == 0, result.output  # dbt: nothing selected is a warning, not a failure
    result = CliRunner().invoke(
        segwise_cli, ["build", "--project-dir", str(project.root), "--profiles-dir", str(project.root), "--bogus"]
    )
    assert result.exit_code == 2, result.output  # dbt's usage error
