"""`segwise report`: a static HTML report of the state tables, with its pictures as PNG files.

report = build_report(project, warehouse, table, Path("report"), target_name="prod")
report.html        # report/report.html: one self-contained file (pictures inlined)
report.pictures    # {"sizes": report/sizes.png, ...}
report.empty       # sections without data, e.g. ("overlaps",) on a database built by an older segwise
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from segwise.config import Project
from segwise.report.charts import draw
from segwise.report.data import TableNamer, empty_sections, group_labels, read_report_data
from segwise.report.html import PageFacts, render_page
from segwise.warehouse.base import Warehouse

__all__ = ["Report", "build_report"]


@dataclass(frozen=True)
class Report:
    html: Path
    pictures: dict[str, Path]  # section key -> PNG
    empty: tuple[str, ...]  # section keys with no data (the page says why)


def build_report(
    project: Project,
    warehouse: Warehouse,
    table: TableNamer,
    out_dir: Path,
    *,
    target_name: str,
    generated_at: datetime | None = None,
) -> Report:
    """Read the state tables through `warehouse` (`table` names them), write out_dir/report.html
    and out_dir/<section>.png. `generated_at` (UTC) defaults to now."""
    data = read_report_data(warehouse, table)
    groups = group_labels(project.groups, data)
    empty = empty_sections(data, groups)
    pictures = draw(data, groups, empty)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, picture in pictures.items():
        paths[key] = out_dir / f"{key}.png"
        paths[key].write_bytes(picture)
    facts = PageFacts(target_name, generated_at or datetime.now(UTC).replace(tzinfo=None))
    page = out_dir / "report.html"
    page.write_text(render_page(project, data, groups, pictures, empty, facts), encoding="utf-8")
    return Report(page, paths, tuple(empty))
