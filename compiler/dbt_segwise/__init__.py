"""segwise's dbt plugin: `dbt build` (run, test, compile, show) refuses to start when the
models under models_path were generated from other definitions than the segment files hold.

dbt-core imports every installed top-level module whose name starts with `dbt_` and
instantiates the classes in its `plugins` list once it has loaded the project, before any
node runs (dbt/plugins/manager.py). Projects without a segwise.yml are left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.plugins.manager import dbtPlugin

CHECKED_COMMANDS = frozenset({"build", "run", "test", "compile", "show", "retry", "generate"})
SKIP_VARIABLE = "SEGWISE_SKIP_STALE_CHECK"


class SegwiseStaleModels(dbtPlugin):
    def initialize(self) -> None:
        from dbt.flags import get_flags

        flags = get_flags()  # type: ignore[no-untyped-call]
        if getattr(flags, "WHICH", None) not in CHECKED_COMMANDS or os.environ.get(SKIP_VARIABLE):
            return
        project_dir = Path(getattr(flags, "PROJECT_DIR", None) or ".")
        config = project_dir / "segwise.yml"
        if not config.is_file():
            return
        from segwise.dbt.staleness import check

        target = getattr(flags, "TARGET_PATH", None)
        message = check(config, project_dir, project_dir / target if target else None)
        if message is not None:
            raise RuntimeError(message)  # dbt reports it and stops: nothing runs


plugins = [SegwiseStaleModels]
