"""The package's generated macro file is what the Python definitions say it is."""

from __future__ import annotations

from segwise.dbt import macros


def test_segwise_schema_macros_are_up_to_date() -> None:
    assert macros.PATH.read_text() == macros.render(), "run `python -m segwise.dbt.macros` and commit the result"
    assert macros.main(["--check"]) == 0
