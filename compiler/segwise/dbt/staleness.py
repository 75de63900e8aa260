"""Whether a project's generated dbt models still match its definitions, and which segments
changed when they don't: the check `dbt build` runs through the dbt plugin (`dbt_segwise`).

A run with models generated from older definitions would silently keep old membership, so it
must not start. The full check regenerates every file in memory; a fingerprint of every input
and output file, kept in the dbt target directory after a check passed, makes repeated runs on
unchanged files cost one read of each file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import segwise
from segwise.errors import SegwiseError, ValidationError
from segwise.loading import load_project
from segwise.rules.canonical import definition_hashes

FRESH_FILE = "segwise_fresh.json"  # under the dbt target directory
_HASHES = re.compile(r"segwise_hashes=(\{.*?\})[,)]")


@dataclass(frozen=True)
class Staleness:
    """Why the generated models do not match the definitions."""

    added: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # generated files that differ, relative to the project
    errors: tuple[str, ...] = ()  # the definitions do not validate

    def message(self, locations: dict[str, str] | None = None) -> str:
        if self.errors:
            head = "segwise: the segment definitions have errors, so the generated models cannot be current:"
            return "\n".join([head, *(f"  {e}" for e in self.errors), "Fix them (`segwise validate`)."])
        where = locations or {}
        parts = [
            *(f"segment '{n}' edited ({where[n]})" if n in where else f"segment '{n}' edited" for n in self.edited),
            *(f"segment '{n}' added ({where[n]})" if n in where else f"segment '{n}' added" for n in self.added),
            *(f"segment '{n}' removed" for n in self.removed),
        ]
        if not parts:
            shown = ", ".join(self.files[:5]) + (", ..." if len(self.files) > 5 else "")
            parts = [f"generated files differ from what segwise.yml and the segment files produce: {shown}"]
        return (
            "segwise: the generated models are stale: "
            + "; ".join(parts)
            + ".\nRun `segwise generate` and then dbt again, or `segwise build` (validate, generate, dbt build)."
            + "\nSet SEGWISE_SKIP_STALE_CHECK=1 to run the old models anyway."
        )


def check(config_path: Path, project_dir: Path, target_dir: Path | None = None) -> str | None:
    """None when the generated models are current, else the message naming what changed."""
    fresh = (target_dir or project_dir / "target") / FRESH_FILE
    config_path = config_path.resolve()
    before = _fingerprint(config_path, project_dir)
    if before is not None and _read(fresh) == before:
        return None
    found, locations = staleness(config_path, project_dir)
    if found is not None:
        return found.message(locations)
    remember_fresh(config_path, project_dir, target_dir)
    return None


def remember_fresh(config_path: Path, project_dir: Path, target_dir: Path | None = None) -> None:
    """Record that the files as they are now passed the check (a cache: failures are ignored)."""
    fresh = (target_dir or project_dir / "target") / FRESH_FILE
    fingerprint = _fingerprint(config_path.resolve(), project_dir)
    if fingerprint is None:
        return
    try:
        fresh.parent.mkdir(parents=True, exist_ok=True)
        fresh.write_text(json.dumps({"fingerprint": fingerprint}))
    except OSError:
        pass


def staleness(config_path: Path, project_dir: Path) -> tuple[Staleness | None, dict[str, str]]:
    """Regenerate in memory and compare with the files on disk."""
    from segwise.dbt import generate as generation  # the SQL generators: only when needed

    try:
        project = load_project(config_path)
    except ValidationError as exc:
        return Staleness(errors=tuple(str(d) for d in exc.diagnostics)), {}
    except SegwiseError as exc:
        return Staleness(errors=(str(exc),)), {}
    todo = generation.plan(project, project_dir)
    if not todo.stale:
        return None, {}
    current = definition_hashes(project)
    recorded = _recorded_hashes(project_dir / project.config.models_path, project.config.model_prefix)
    locations = {
        name: f"{_relative(Path(loc.file), project_dir)}:{loc.line}" for name, loc in project.locations.items()
    }
    changed = Staleness(
        added=tuple(sorted(set(current) - set(recorded))),
        edited=tuple(sorted(n for n in set(current) & set(recorded) if current[n] != recorded[n])),
        removed=tuple(sorted(set(recorded) - set(current))),
        files=tuple(_relative(p, project_dir) for p in sorted([*todo.write, *todo.delete])),
    )
    return changed, locations


def _recorded_hashes(models_dir: Path, prefix: str) -> dict[str, str]:
    """The definition hashes the generated membership model was written for."""
    path = models_dir / f"{prefix}segment_membership.sql"
    try:
        found = _HASHES.search(path.read_text())
    except OSError:
        return {}
    if found is None:
        return {}
    try:
        hashes = json.loads(found.group(1))
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in hashes.items()} if isinstance(hashes, dict) else {}


def _fingerprint(config_path: Path, project_dir: Path) -> str | None:
    """A digest of segwise's version and every file the generated models depend on or are."""
    try:
        config_text = config_path.read_bytes()
        files = _inputs(config_path, project_dir)
        digest = hashlib.sha256(segwise.__version__.encode() + b"\0" + config_text)
        for path in files:
            digest.update(b"\0" + str(path).encode() + b"\0" + path.read_bytes())
    except Exception:  # a cache key: any failure only means the full check runs
        return None
    return digest.hexdigest()


def _inputs(config_path: Path, project_dir: Path) -> list[Path]:
    # Both directories are read off the config by a cheap regex-free YAML load: a wrong guess
    # only costs a full check (the fingerprint then never matches), never a false "fresh".
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(config_path.read_text()) or {}
    segments_dir = config_path.parent / str(data.get("segments_path", "segments"))
    models_dir = project_dir / str(data.get("models_path", "models/segwise"))
    return sorted(_files(segments_dir, {".yml"})) + sorted(_files(models_dir, {".sql", ".yml"}))


def _files(root: Path, suffixes: set[str]) -> Iterable[Path]:
    return (p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes) if root.is_dir() else ()


def _read(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
