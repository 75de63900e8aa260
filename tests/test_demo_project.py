"""The demo as `make demo` builds it: demos/ecommerce, a dbt project of its own that installs
segwise as a local package, built by `segwise build` a week before T and at T on the full
demo data. The README's analyst queries return the rows it says, as written, and the summary
ends with the database and the next commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from segwise_demo import generate, summary

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demos" / "ecommerce"
T = "2025-06-01T00:00:00"
WEEK_BEFORE = "2025-05-25T00:00:00"


def _readme_queries() -> tuple[list[str], list[int]]:
    """The SQL of README's "Querying the results", and the row counts its text states."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Querying the results", 1)[1].split("\n## ", 1)[0]
    sql = "\n".join(re.findall(r"```sql\n(.*?)```", section, re.S))
    queries = [q.strip() for q in sql.split(";") if q.strip()]
    stated = re.search(r"these return ([\d, and]+) rows", section)
    assert stated is not None, "README: the sentence stating each query's row count is missing"
    counts = [int(n) for n in re.findall(r"\d+", stated.group(1))]
    return queries, counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    project = root / "ecommerce"
    ignored = shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml", ".user.yml")
    shutil.copytree(DEMO, project, ignore=ignored)
    (project / "packages.yml").write_text(json.dumps({"packages": [{"local": str(REPO)}]}))
    assert generate.main(["--out", str(root / "data"), "--as-of", T]) == 0
    database = root / "segwise.duckdb"
    env = {**os.environ, "SEGWISE_DUCKDB_PATH": str(database), "SEGWISE_DEMO_DATA": str(root / "data")}
    bin_dir = Path(sys.executable).parent  # the commands a user runs, each its own process
    commands = [[str(bin_dir / "dbt"), "deps", "--quiet"]]
    for as_of in (WEEK_BEFORE, T):
        commands.append([str(bin_dir / "segwise"), "build", "--vars", json.dumps({"segwise_as_of": as_of}), "--quiet"])
    for command in commands:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return database


def test_the_readme_queries_return_the_rows_it_states(demo: Path) -> None:
    queries, counts = _readme_queries()
    assert len(queries) == len(counts) == 5
    con = duckdb.connect(str(demo), read_only=True)
    try:
        got = [len(con.sql(query).fetchall()) for query in queries]
    finally:
        con.close()
    assert got == counts, f"README states {counts} rows, the demo returns {got}"


def test_both_runs_wrote_history_and_the_second_was_incremental(demo: Path) -> None:
    con = duckdb.connect(str(demo), read_only=True)
    try:
        runs = con.execute("select mode from segwise_runs order by as_of").fetchall()
        closed = con.execute("select count(*) from segment_membership_history where valid_to is not null").fetchone()
        segments = con.execute("select count(*) from segment_definitions").fetchone()
    finally:
        con.close()
    assert runs == [("full",), ("incremental",)]
    assert closed is not None and closed[0] > 0
    assert segments == (27,)


def test_the_summary_ends_with_the_database_and_next_commands(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary.main(["--database", str(demo), "--project", "demos/ecommerce"])
    out = capsys.readouterr().out
    # what the last run touched, and why (segwise_runs)
    pattern = r"The run: incremental \(new data and moving windows\), ([\d,]+) of ([\d,]+) users re-evaluated: (.+)"
    run = re.search(pattern, out)
    assert run is not None, out
    evaluated, everyone = (int(n.replace(",", "")) for n in run.group(1, 2))
    assert 0 < evaluated < everyone and "new events" in run.group(3)
    tail = out.rstrip().splitlines()[-8:]
    assert tail[0] == f"The database: {demo.resolve()}"
    assert any("segwise preview" in line and f"--as-of {T}" in line for line in tail), tail
    assert any("segwise explain" in line for line in tail) and any("duckdb" in line for line in tail)
    assert tail[-1] == 'Queries for analysts: README.md, "Querying the results".'


def _report(project: Path, env: dict[str, str], out: Path) -> list[str]:
    """`segwise report` as `make demo` runs it: its output, after checking what it wrote."""
    segwise = str(Path(sys.executable).parent / "segwise")
    done = subprocess.run([segwise, "report", "--out", str(out)], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    for picture in ("sizes", "churn", "overlaps", "groups", "flows"):
        png = (out / f"{picture}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000, picture
    assert page.count("data:image/png;base64,") == 5 and "http://" not in page and "https://" not in page
    return done.stdout.splitlines()


def test_the_report_builds_after_the_demo_and_after_an_incremental_run(demo: Path, tmp_path: Path) -> None:
    """`make demo` ends by pointing at the report; `make demo-incremental` adds a run to it."""
    root = tmp_path / "copy"
    shutil.copytree(demo.parent, root, symlinks=True)
    project, database, data = root / "ecommerce", root / "segwise.duckdb", root / "data"
    env = {**os.environ, "SEGWISE_DUCKDB_PATH": str(database), "SEGWISE_DEMO_DATA": str(data)}
    lines = _report(project, env, root / "report")
    assert lines[-2] == f"The report: {(root / 'report' / 'report.html').resolve()} (one file; open it in a browser)"
    # make demo-incremental: six more hours of events, a run at the next T, the report again
    assert generate.main(["--out", str(data), "--append-hours", "6"]) == 0
    next_t = subprocess.run(
        [sys.executable, "-m", "segwise_demo.next_as_of", "--data", str(data)],
        env={**env, "PYTHONPATH": str(REPO / "demos")}, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    segwise = str(Path(sys.executable).parent / "segwise")
    build = [segwise, "build", "--vars", json.dumps({"segwise_as_of": next_t}), "--quiet"]
    done = subprocess.run(build, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    _report(project, env, root / "report")
    page = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert next_t.replace("T", " ")[:16] in page  # the new run is in it


def test_export_writes_the_members_the_table_holds(demo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SEGWISE_DUCKDB_PATH": str(demo), "SEGWISE_DEMO_DATA": str(demo.parent / "data")}
    segwise = str(Path(sys.executable).parent / "segwise")
    out = tmp_path / "vip.csv"
    done = subprocess.run(
        [segwise, "export", "vip", "--out", str(out)],
        cwd=demo.parent / "ecommerce",
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    con = duckdb.connect(str(demo), read_only=True)
    try:
        members = con.execute(
            "select user_id from segment_membership where segment = 'vip' order by user_id"
        ).fetchall()
    finally:
        con.close()
    lines = out.read_text().splitlines()
    assert lines[0] == "user_id,variant,entered_at"
    assert [line.split(",")[0] for line in lines[1:]] == [m[0] for m in members]
    assert done.stdout.strip() == f"wrote {len(members):,} members of vip to {out}"


def test_deliver_demo_delivers_each_change_once_through_a_flaky_receiver(demo: Path, tmp_path: Path) -> None:
    """`make demo-deliver`: the real `segwise deliver` against a receiver that fails 30% of
    requests on purpose; the receiver ends up with exactly the changes segment_changes holds for
    each endpoint of demos/ecommerce/deliveries.yml, each once, and a second run sends nothing."""
    import hashlib

    from ruamel.yaml import YAML

    project, database, out = tmp_path / "ecommerce", tmp_path / "segwise.duckdb", tmp_path / "received.jsonl"
    shutil.copytree(demo.parent / "ecommerce", project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs"))
    shutil.copyfile(demo, database)  # deliver writes its cursors: leave the module's database alone
    env = {**os.environ, "PYTHONPATH": str(REPO / "demos")}  # as the Makefile's DEMO_ENV
    command = [sys.executable, "-m", "segwise_demo.deliver_demo", "--project", str(project), "--database",
               str(database), "--port", "0", "--flaky", "0.3", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    first = re.search(
        r"^first run: ([\d,]+) changes delivered; \d+ requests, (\d+) failed on purpose",
        done.stdout,
        re.M,
    )
    assert first is not None, done.stdout
    assert int(first.group(1).replace(",", "")) > 0 and int(first.group(2)) > 0
    assert re.search(r"^second run: 0 changes delivered, 0 requests$", done.stdout, re.M), done.stdout

    received = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    got = [(c["endpoint"], c["id"], c["segment"], c["user_id"], c["changed_at"], c["change"]) for c in received]
    assert len(got) == len(set(got)), "a change was stored twice"
    # What each endpoint asks for, resolved with SQL alone: its segments, plus those whose tags
    # (segment_definitions.tags, a JSON list) meet its tags; reason 'data' (the file includes no
    # definition changes); the changes it lists.
    config = YAML(typ="safe").load((project / "deliveries.yml").read_text(encoding="utf-8"))
    expected = set()
    con = duckdb.connect(str(database), read_only=True)
    try:
        for endpoint in config["endpoints"]:
            assert not endpoint.get("include_definition_changes")
            rows = con.execute(
                """
                SELECT c.segment, c.user_id, c.changed_at, c.change FROM segment_changes c
                JOIN segment_definitions d ON d.segment = c.segment
                WHERE c.reason = 'data' AND list_contains(?, c.change)
                  AND (list_contains(?, c.segment) OR list_has_any(from_json(d.tags, '["VARCHAR"]'), ?))
                """,
                [
                    endpoint.get("changes", ["entered", "exited"]),
                    endpoint.get("segments", []),
                    endpoint.get("tags", []),
                ],
            ).fetchall()
            for segment, user_id, changed_at, change in rows:
                assert changed_at.microsecond == 0
                at = changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                key = hashlib.sha256(f"{segment}|{user_id}|{at}|{change}".encode()).hexdigest()
                expected.add((endpoint["name"], key, segment, user_id, at, change))
    finally:
        con.close()
    assert {name for name, *_ in expected} == {"crm", "lifecycle-mailer"}
    assert set(got) == expected
