"""A profile to an open warehouse, and to the resolver that names its tables."""

from __future__ import annotations

from pathlib import Path

from segwise.config import Config, SourceRef
from segwise.sql.relations import Resolver, direct
from segwise.warehouse.base import Warehouse, WarehouseError
from segwise.warehouse.profiles import ConnectionProfile
from segwise.warehouse.sources import dbt_sources

EXTRAS = {"postgres": "postgres", "snowflake": "snowflake", "bigquery": "bigquery"}


def connect(profile: ConnectionProfile) -> Warehouse:
    """Open the profile's warehouse read-only (as far as its client allows) with its own client."""
    try:
        if profile.type == "duckdb":
            from segwise.warehouse.duckdb_client import DuckDBWarehouse

            return DuckDBWarehouse(profile.fields)
        if profile.type == "postgres":
            from segwise.warehouse.postgres_client import PostgresWarehouse

            return PostgresWarehouse(profile.fields)
        if profile.type == "snowflake":
            from segwise.warehouse.snowflake_client import SnowflakeWarehouse

            return SnowflakeWarehouse(profile.fields)
        if profile.type == "bigquery":
            from segwise.warehouse.bigquery_client import BigQueryWarehouse

            return BigQueryWarehouse(profile.fields)
    except ImportError as exc:
        raise WarehouseError(
            f"the {profile.type} client is not installed ({exc.name}): pip install 'segwise[{EXTRAS[profile.type]}]'"
        ) from None
    raise WarehouseError(f"no client for profile type {profile.type!r}")


def resolver_for(profile: ConnectionProfile, config: Config, project_dir: Path) -> Resolver:
    """Tables as dbt names them for this target: `ref('x')` is `x` in the target's schema
    (and database/project), `source('a', 'b')` is what the dbt project's sources YAML declares,
    else table `b` of schema `a`."""
    sources = {}
    if any(isinstance(r, SourceRef) for r in (config.users.relation, config.events.relation)):
        sources = dbt_sources(project_dir, profile)
    return direct(profile.schema, database=profile.database, sources=sources)
