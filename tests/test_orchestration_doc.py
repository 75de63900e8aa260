"""docs/orchestration.md shows the recipes the tests run, in full and as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPES = ["orchestration/dagster/segwise_definitions.py", "orchestration/airflow/segwise_dag.py"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_the_doc_shows_each_recipe_verbatim(recipe: str) -> None:
    doc = (REPO / "docs" / "orchestration.md").read_text()
    assert f"```python\n{(REPO / recipe).read_text()}```" in doc, f"docs/orchestration.md: {recipe} differs"
    assert f"(../{recipe})" in doc
