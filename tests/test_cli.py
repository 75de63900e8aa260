"""The command line: validate and compile, on the demo project and on broken input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner

from segwise.cli import main
from segwise.loading import load_project
from segwise.sql.dialects import TARGETS

ROOT = Path(__file__).resolve().parents[1]
DEMO = load_project(ROOT / "demos/ecommerce/segwise.yml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_demo_prints_one_line_summary() -> None:
    code, out, _ = run("validate", "--config", str(ROOT / "demos/ecommerce/segwise.yml"))
    assert code == 0
    assert out.strip().splitlines() == [f"ok: {len(DEMO.segments)} segments, {len(DEMO.groups)} group"]


def test_validate_reports_every_error_located(tmp_path: Path) -> None:
    shutil.copy(ROOT / "demos/ecommerce/segwise.yml", tmp_path / "segwise.yml")
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "bad.yml").write_text(
        "segments:\n"
        "  - name: a\n"
        "    rule: {trait: plna, eq: pro}\n"
        "  - name: b\n"
        "    rule: {event: x, within: 3 days}\n"
        "  - name: c\n"
        "    rule: {in_segment: d}\n"
        "  - name: d\n"
        "    rule: {in_segment: c}\n"
    )
    code, out, err = run("validate", "--config", str(tmp_path / "segwise.yml"))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0] == f"{tmp_path}/segments/bad.yml:3:19: unknown trait 'plna'; did you mean 'plan'?"
    assert lines[1].startswith(f"{tmp_path}/segments/bad.yml:5:30: within: bad duration '3 days'")
    assert lines[2].startswith(f"{tmp_path}/segments/bad.yml:7:") and "c -> d -> c" in lines[2]
    assert len(lines) == 3
    assert "3 errors" in err


TEN_MISTAKES = """\
segments:
  - name: first
    rule:
      all:
        - {trait: plna, eq: pro}
        - {trait: ltv, gt: "abc"}
        - {event: order_completed, withn: 30d}
        - {event: order_completed, within: 30 days}
        - sequence:
            steps:
              - {event: a, absent: true}
        - {in_segment: nope}
  - name: first
    holdout: 70
    rule:
      any: []
groups:
  - {name: g, priority: [frist]}
"""


def test_validate_prints_ten_located_errors_with_hints_and_writes_nothing(tmp_path: Path) -> None:
    shutil.copy(ROOT / "demos/ecommerce/segwise.yml", tmp_path / "segwise.yml")
    (tmp_path / "segments").mkdir()
    bad = tmp_path / "segments" / "ten.yml"
    bad.write_text(TEN_MISTAKES)
    code, out, err = run("validate", "--config", str(tmp_path / "segwise.yml"))
    assert code == 1
    lines = out.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{bad}:{pos}" for pos in ("5:19", "6:28", "7:36", "8:44", "11:28", "12:24", "13:5", "14:14", "16:12", "18:26")
    ]
    assert "did you mean 'plan'" in lines[0] and "did you mean 'within'" in lines[2]
    assert "did you mean 'first'" in lines[9]
    assert "10 errors" in err
    code, _, _ = run("generate", "--config", str(tmp_path / "segwise.yml"))
    assert code == 1
    assert not (tmp_path / "models").exists()  # bad input changes nothing


@pytest.mark.parametrize("dialect", sorted(TARGETS))
def test_compile_every_demo_segment_parses_back(dialect: str) -> None:
    for name in DEMO.segments:
        code, out, err = run(
            "compile",
            name,
            "--dialect",
            dialect,
            "--as-of",
            "2025-06-01T00:00:00",
            "--config",
            str(ROOT / "demos/ecommerce/segwise.yml"),
        )
        assert code == 0, err
        statements = sqlglot.parse(out, read=TARGETS[dialect].reader)
        assert len([s for s in statements if s is not None]) == 1, name


def test_compile_runs_on_duckdb_against_the_demo_schema() -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE demo_users (user_id BIGINT, plan VARCHAR, country VARCHAR, city VARCHAR, signup_at TIMESTAMP,"
        " trial_ends_at TIMESTAMP, lifetime_value DECIMAL(12, 2), is_beta BOOLEAN, latitude DOUBLE,"
        " longitude DOUBLE, updated_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE demo_events (event_id VARCHAR, user_id BIGINT, event_name VARCHAR, occurred_at TIMESTAMP,"
        " loaded_at TIMESTAMP, properties JSON)"
    )
    con.execute(
        "INSERT INTO demo_users VALUES (1, 'pro', 'US', 'New York', '2025-01-01', NULL, 10, false, 40.73, -73.99, NULL)"
    )
    con.execute(
        "INSERT INTO demo_events VALUES ('e1', 1, 'order_completed', '2025-05-31 10:00:00', '2025-05-31 10:00:00',"
        ' \'{"amount": 120.5, "category": "electronics"}\')'
    )
    for name in DEMO.segments:
        code, out, err = run(
            "compile", name, "--as-of", "2025-06-01T00:00:00", "--config", str(ROOT / "demos/ecommerce/segwise.yml")
        )
        assert code == 0, err
        rows = con.execute(out).fetchall()
        assert all(user == "1" for user, _variant in rows), name


def test_compile_unknown_segment_suggests_the_closest() -> None:
    code, _, err = run("compile", "pro_user", "--config", str(ROOT / "demos/ecommerce/segwise.yml"))
    assert code == 1
    assert "unknown segment 'pro_user'; did you mean 'pro_users'?" in err


TINY_CONFIG = """\
sources:
  users: {relation: ref('users'), id: user_id, traits: {plan: string}}
  events: {relation: ref('events'), user_id: user_id, name: event_name, timestamp: occurred_at}
"""


@pytest.mark.parametrize(
    ("segments", "groups", "summary"),
    [
        (0, 0, "ok: 0 segments"),
        (1, 0, "ok: 1 segment"),
        (3, 0, "ok: 3 segments"),
        (1, 1, "ok: 1 segment, 1 group"),
        (2, 2, "ok: 2 segments, 2 groups"),
    ],
)
def test_validate_summary_counts_in_words(tmp_path: Path, segments: int, groups: int, summary: str) -> None:
    (tmp_path / "segwise.yml").write_text(TINY_CONFIG)
    (tmp_path / "segments").mkdir()
    lines = [f"  - {{name: s{i}, rule: {{trait: plan, eq: pro}}}}" for i in range(segments)]
    text = "\n".join(["segments:", *lines]) if segments else ""  # an empty file defines nothing
    if groups:
        text += "\ngroups:\n" + "\n".join(f"  - {{name: g{i}, priority: [s0]}}" for i in range(groups))
    (tmp_path / "segments" / "s.yml").write_text(text + "\n")
    code, out, err = run("validate", "--config", str(tmp_path / "segwise.yml"))
    assert code == 0, err
    assert out.strip() == summary
