"""A whole project: the config and every segment file under `segments_path` (docs/language.md).

All files are read and checked before anything is reported, so one run lists every
problem of the project, each with its file, line and column.
"""

from __future__ import annotations

from pathlib import Path

from segwise.config import Config, Project
from segwise.errors import Diagnostic, ValidationError
from segwise.loading.config_loader import read_config
from segwise.loading.reader import Reporter
from segwise.loading.references import check_definitions
from segwise.loading.rule_parser import Reference
from segwise.loading.segment_file import GroupEntry, SegmentEntry, parse_segment_file
from segwise.loading.yaml_source import YNode, load_yaml, read_yaml_file
from segwise.rules.nodes import Condition, Group, Segment
from segwise.rules.values import Location
from segwise.rules.walk import references


class _Definitions:
    """The segment and group entries of one run, from any number of files."""

    def __init__(self, config: Config):
        self.config = config
        self.diagnostics: list[Diagnostic] = []
        self.segments: list[SegmentEntry] = []
        self.groups: list[GroupEntry] = []
        self.all_files_read = True

    def add(self, file: str, root: YNode | None, yaml_diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(yaml_diagnostics)
        if yaml_diagnostics:  # a broken document would only add confusing follow-up errors
            self.all_files_read = False
            return
        r = Reporter(file)
        segments, groups = parse_segment_file(r, root, self.config)
        self.diagnostics.extend(r.diagnostics)
        self.segments.extend(segments)
        self.groups.extend(groups)

    def check(self) -> tuple[dict[str, Segment], dict[str, Group]]:
        diagnostics, segments, groups = check_definitions(
            self.segments, self.groups, all_files_read=self.all_files_read
        )
        self.diagnostics.extend(diagnostics)
        if self.diagnostics:
            raise ValidationError(self.diagnostics)
        return segments, groups


def parse_segments_text(text: str, config: Config, file: str = "<string>") -> tuple[list[Segment], list[Group]]:
    """The segments and groups of one file's text, in written order (tests, preview)."""
    definitions = _Definitions(config)
    definitions.add(file, *load_yaml(text, file))
    segments, groups = definitions.check()
    return list(segments.values()), list(groups.values())


def _references(cond: Condition, default: Location) -> list[Reference]:
    return [Reference(ref.segment, ref.loc or default) for ref in references(cond)]


def with_segments_text(project: Project, text: str, file: str = "<string>") -> Project:
    """The project plus the definitions of one more file that is not under segments_path (an
    analyst trying a rule: `segwise preview --file`).

    The file is validated as `parse_segments_text` does, against the project's config, and its
    `in_segment` may name the project's segments. A segment the file defines replaces the
    project's segment of that name (trying a new version of an existing rule)."""
    definitions = _Definitions(project.config)
    definitions.add(file, *load_yaml(text, file))
    defined = {entry.name for entry in definitions.segments}
    for name, segment in project.segments.items():
        if name not in defined:
            loc = segment.loc or Location(project.config.path, 1, 1)
            definitions.segments.append(SegmentEntry(name, loc, segment, _references(segment.rule, loc)))
    segments, groups = definitions.check()
    locations = {name: segment.loc for name, segment in segments.items() if segment.loc is not None}
    return Project(project.config, segments, {**project.groups, **groups}, root=project.root, locations=locations)


def load_project(config_path: Path = Path("segwise.yml")) -> Project:
    """The config and every `*.yml` under its segments_path (recursively, sorted by path)."""
    config, config_root = read_config(config_path)
    root = config_path.parent
    segments_dir = root / config.segments_path
    definitions = _Definitions(config)
    if not segments_dir.is_dir():
        at = config_root.get("segments_path") or config_root
        message = f"segments_path {config.segments_path!r}: no directory {str(segments_dir)!r}"
        definitions.diagnostics.append(Diagnostic(config.path, at.line, at.col, message))
    else:
        for path in sorted(segments_dir.rglob("*.yml")):
            definitions.add(str(path), *read_yaml_file(path, str(path)))
    segments, groups = definitions.check()
    locations = {name: segment.loc for name, segment in segments.items() if segment.loc is not None}
    return Project(config, segments, groups, root=str(root), locations=locations)
