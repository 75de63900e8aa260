"""segwise: warehouse-native user segments compiled to SQL with sqlglot and kept by dbt."""

__version__ = "0.1.0"


def _refuse_sqlglotc() -> None:
    """segwise's SQL is built from sqlglot node and generator subclasses. sqlglotc (installed by
    `sqlglot[c]` and `sqlglot[rs]`, and so by dagster-dbt) overlays compiled sqlglot modules
    whose classes refuse Python subclasses: every compile would fail deep inside with
    "interpreted classes cannot inherit from compiled". Say so at once, with the ways out."""
    from sqlglot.expressions import core

    if getattr(core, "__file__", "core.py").endswith(".py"):
        return
    raise ImportError(
        "segwise cannot run beside sqlglotc (the compiled sqlglot that `sqlglot[c]` and `sqlglot[rs]` install; "
        "dagster-dbt pulls it in): its classes accept no subclasses, and segwise's SQL nodes are subclasses. "
        "Install segwise in a virtualenv of its own (docs/orchestration.md shows Dagster and Airflow calling it "
        "there), or remove the compiled modules from this one: pip uninstall -y sqlglotc sqlglotrs"
    )


_refuse_sqlglotc()
