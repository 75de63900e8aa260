"""Build a validated Project from plain dicts (as the hypothesis strategies produce them).

JSON is YAML, so the dicts go through the real loader: the tests exercise the same parsing
and validation path as `segwise validate`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from segwise.config import Project
from segwise.loading import load_config, parse_segments_text


def project_from_dicts(
    config: dict[str, Any], segments: list[dict[str, Any]], groups: list[dict[str, Any]] | None = None
) -> Project:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segwise.yml"
        path.write_text(json.dumps(config, default=str))
        cfg = load_config(path)
    text = json.dumps({"segments": segments, "groups": groups or []}, default=str)
    segs, grps = parse_segments_text(text, cfg, "generated.yml")
    return Project(cfg, {s.name: s for s in segs}, {g.name: g for g in grps})
