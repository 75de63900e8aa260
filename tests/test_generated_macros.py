"""The package's generated macro file is what the Python definitions say it is."""

from __future__ import annotations

from pathlib import Path

import yaml

from segwise.dbt import macros


def test_segwise_schema_macros_are_up_to_date() -> None:
    assert macros.PATH.read_text() == macros.render(), "run `python -m segwise.dbt.macros` and commit the result"
    assert macros.main(["--check"]) == 0


def test_the_schema_yaml_describes_only_models_that_exist() -> None:
    """dbt warns on every run about a schema entry without a model ('Did not find matching
    node for patch'): state tables without a model of their own stay out of it."""
    from segwise.dbt.files import schema_yaml
    from segwise.loading import load_project

    root = Path(__file__).resolve().parents[1] / "demos" / "ecommerce"
    project = load_project(root / "segwise.yml")
    described = {m["name"] for m in yaml.safe_load(schema_yaml(project))["models"]}
    models = {p.stem for p in (root / "models" / "segwise").rglob("*.sql")}
    assert described <= models, f"described without a model: {sorted(described - models)}"
