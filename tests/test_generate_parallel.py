"""Large projects are generated differently: the membership model is built once, for the first
dialect, and forked processes retarget it to the others (dbt/files.py). Those files must be
byte for byte what building each dialect separately gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwise.dbt import files
from segwise.errors import CompileError
from segwise.loading import load_project

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = {
    "demo": ROOT / "demos/ecommerce/segwise.yml",
    "constructs": ROOT / "tests/golden/constructs/segwise.yml",
    "constructs_flat": ROOT / "tests/golden/constructs/segwise_flat.yml",
    "bench": ROOT / "bench/segwise.yml",
}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_forked_retargeted_models_equal_separate_builds(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(PROJECTS[name])
    monkeypatch.setattr(files, "PARALLEL_FROM", 10**9)
    separate = files.model_files(project)
    monkeypatch.setattr(files, "PARALLEL_FROM", 1)
    monkeypatch.setattr(files.os, "cpu_count", lambda: 2)
    assert files._parallel(project)
    forked = files.model_files(project)
    assert forked.keys() == separate.keys()
    for path in separate:
        assert forked[path] == separate[path], path


def test_a_failing_writer_process_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(PROJECTS["demo"])
    monkeypatch.setattr(files, "PARALLEL_FROM", 1)
    monkeypatch.setattr(files.os, "cpu_count", lambda: 2)

    def broken(target: object, tree: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(files, "_retargeted_sql", broken)
    with pytest.raises(CompileError, match=r"(?s)worker process.*boom"):
        files.model_files(project)
