"""The report page: one HTML file with its CSS inline and its pictures as data: URIs, so it
opens offline, from a mail attachment or a shared drive, with no script and no network.

Every name and text from the project or the warehouse goes through `esc`. Numbers in tables
are written without thousands separators, so that they paste into a spreadsheet as numbers.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from segwise.config import Project
from segwise.explain import WrittenDurations
from segwise.report.charts import NO_LABEL
from segwise.report.data import MAX_CHARTED, Flow, GroupLabels, ReportData
from segwise.rules.describe import describe
from segwise.rules.nodes import Condition
from segwise.rules.walk import children

TABLE_RUNS = 6  # runs shown as columns of the sizes table
TABLE_TOTALS = 20  # runs listed in the totals table
TABLE_PAIRS = 100  # overlapping pairs listed
OPEN_UP_TO = 60  # longer tables start folded (<details>)

TITLES = {
    "sizes": "Segment sizes over time",
    "churn": "Entered and exited",
    "overlaps": "Overlaps between segments",
    "groups": "Group composition",
    "flows": "Flows between group labels",
    "definitions": "Definitions",
}

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0;
       background: #fafafa; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid #ddd; }
h3 { font-size: 15px; margin: 20px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: #666; } dl.facts dd { margin: 0; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
p.empty { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; }
p.note { color: #666; font-size: 12.5px; }
pre.rule { margin: 0; font-size: 12px; white-space: pre-wrap; }
summary { cursor: pointer; color: #2c6fbb; margin: 6px 0; }
nav a { margin-right: 14px; }
"""


@dataclass(frozen=True)
class PageFacts:
    target: str
    generated_at: datetime


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_page(
    project: Project,
    data: ReportData,
    groups: GroupLabels,
    pictures: dict[str, bytes],
    empty: dict[str, str],
    facts: PageFacts,
) -> str:
    """The whole page. `empty` says, per section without a picture, why it has no data."""
    bodies = {
        "sizes": _sizes(data),
        "churn": _churn(data),
        "overlaps": _overlaps(data),
        "groups": _composition(data, groups),
        "flows": _flows(data),
        "definitions": _definitions(project),
    }
    sections = []
    for key, title in TITLES.items():
        parts = [f'<section id="{key}"><h2>{esc(title)}</h2>']
        if key in empty:
            parts.append(f'<p class="empty">{esc(empty[key])}</p>')
        if key in pictures:
            encoded = base64.b64encode(pictures[key]).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{encoded}" alt="{esc(title)}">')
        if key not in empty:
            parts.append(bodies[key])
        parts.append("</section>")
        sections.append("".join(parts))
    nav = " ".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in TITLES.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>segwise report: {esc(_project_name(project))}</title><style>{CSS}</style></head>"
        f"<body><main>{_header(project, data, facts)}<nav>{nav}</nav>{''.join(sections)}</main></body></html>\n"
    )


def _project_name(project: Project) -> str:
    return Path(project.root).resolve().name or project.config.path


def _header(project: Project, data: ReportData, facts: PageFacts) -> str:
    rows = [
        ("Project", f"{_project_name(project)} ({project.config.path})"),
        ("Target", facts.target),
        ("Last run (T)", _when(data.last_run) if data.last_run else "no run yet"),
        ("Runs", str(data.runs)),
        ("Segments", f"{len(project.segments)} defined, {len(data.current)} in the last run"),
        ("Groups", str(len(project.groups))),
        ("Generated", f"{facts.generated_at:%Y-%m-%d %H:%M:%S} UTC"),
    ]
    cells = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<h1>segwise report</h1><dl class="facts" id="facts">{cells}</dl>'


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at.second or at.microsecond else at.strftime("%Y-%m-%d %H:%M")


def table(table_id: str, headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Iterable[int] = ()) -> str:
    """A table; columns in `numeric` are right-aligned. Long tables start folded."""
    right = set(numeric)

    def cls(i: int) -> str:
        return ' class="n"' if i in right else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = ["<tr>" + "".join(f"<td{cls(i)}>{_cell(v)}</td>" for i, v in enumerate(row)) + "</tr>" for row in rows]
    markup = f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    if len(body) > OPEN_UP_TO:
        return f"<details><summary>Show all {len(body)} rows</summary>{markup}</details>"
    return markup


@dataclass(frozen=True)
class Preformatted:
    """A cell shown as written, line breaks and indentation kept (a rule)."""

    text: str


def _cell(value: object) -> str:
    """A cell's markup, escaped."""
    if value is None:
        return ""
    if isinstance(value, Preformatted):
        return f'<pre class="rule">{esc(value.text)}</pre>'
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, datetime):
        return esc(_when(value))
    return esc(value)


def _sizes(data: ReportData) -> str:
    runs = sorted({t for points in data.history.values() for t, _ in points})[-TABLE_RUNS:]
    rows = []
    for name, points in data.history.items():
        members = dict(points)
        rows.append([name, *(members.get(t) for t in runs)])
    note = ""
    if len(data.current) > len(data.history):
        note = (
            f'<p class="note">The {MAX_CHARTED} largest segments of {len(data.current)}; every segment is in the'
            " table of the next section.</p>"
        )
    headers = ["segment", *(_when(t) for t in runs)]
    return note + table("table-sizes", headers, rows, numeric=range(1, len(headers)))


def _churn(data: ReportData) -> str:
    totals = [
        [t.evaluated_at, t.segments, t.members, t.entered, t.exited] for t in reversed(data.totals[-TABLE_TOTALS:])
    ]
    per_run = table("table-runs", ["run (T)", "segments", "members", "entered", "exited"], totals, range(1, 5))
    segments = [
        [s.segment, s.members, s.entered, s.exited, s.entered - s.exited, s.control_members] for s in data.current
    ]
    last = table("table-last-run", ["segment", "members", "entered", "exited", "net", "control"], segments, range(1, 6))
    return f"<h3>Per run, newest first</h3>{per_run}<h3>Last run, per segment</h3>{last}"


def _overlaps(data: ReportData) -> str:
    pairs = sorted((o for o in data.overlaps or () if o.a < o.b), key=lambda o: (-o.jaccard, -o.shared, o.a, o.b))[
        :TABLE_PAIRS
    ]
    rows = [[o.a, o.b, o.shared, o.a_members, o.b_members, o.jaccard] for o in pairs]
    headers = ["a", "b", "shared", "a members", "b members", "Jaccard"]
    return f"<h3>Most similar pairs</h3>{table('table-overlaps', headers, rows, range(2, 6))}"


def _composition(data: ReportData, groups: GroupLabels) -> str:
    members = {(c.group, c.label): c.members for c in data.labels or ()}
    rows = []
    for group, (labels, _) in groups.items():
        total = sum(members.get((group, label), 0) for label in labels) or 1
        for label in labels:
            n = members.get((group, label), 0)
            rows.append([group, label, n, f"{100 * n / total:.1f}"])
    return table("table-groups", ["group", "label", "members", "share %"], rows, numeric=(2, 3))


def _flows(data: ReportData) -> str:
    last = {(f.group, f.source, f.target): f.changes for f in data.last_flows or ()}

    def label(name: str | None) -> str:
        return NO_LABEL if name is None else name

    every: Sequence[Flow] = sorted(
        data.flows or (), key=lambda f: (f.group, -f.changes, label(f.source), label(f.target))
    )
    rows = [
        [f.group, label(f.source), label(f.target), f.changes, last.get((f.group, f.source, f.target), 0)]
        for f in every
    ]
    headers = ["group", "from", "to", "every run", "last run"]
    note = '<p class="note">Counts are label changes; (none) is no label (before a first label, after leaving).</p>'
    return note + table("table-flows", headers, rows, numeric=(3, 4))


def _definitions(project: Project) -> str:
    written = WrittenDurations()
    rows = [
        [
            name,
            segment.description,
            ", ".join(segment.tags),
            f"{segment.holdout}%" if segment.holdout else "",
            Preformatted(rule_text(segment.rule, written)),
        ]
        for name, segment in project.segments.items()
    ]
    segments = table("table-definitions", ["segment", "description", "tags", "holdout", "rule"], rows)
    group_rows = [[name, ", ".join(group.priority), group.fallback or ""] for name, group in project.groups.items()]
    groups = table("table-group-definitions", ["group", "priority", "fallback"], group_rows) if group_rows else ""
    return segments + (f"<h3>Groups</h3>{groups}" if groups else "")


def rule_text(rule: Condition, written: WrittenDurations | None = None) -> str:
    """The rule as an indented outline, one condition a line (as `segwise explain` shows it)."""
    lines: list[str] = []

    def walk(cond: Condition, depth: int) -> None:
        durations = written.at(getattr(cond, "loc", None)) if written else None
        lines.append("  " * depth + describe(cond, durations))
        for child in children(cond):
            walk(child, depth + 1)

    walk(rule, 0)
    return "\n".join(lines)
