"""Read-only warehouse connections for `segwise preview` and `segwise explain`.

The connection comes from the dbt profile, found and rendered the way dbt does it
(profiles.py, render.py); each adapter type opens the warehouse with its own client:

    profile = load_profile(Path("segwise.yml"), target="duckdb")
    with connect(profile) as warehouse:
        rows = warehouse.query("select 1")

Nothing here writes to the warehouse.
"""

from segwise.warehouse.base import Warehouse, WarehouseError
from segwise.warehouse.connect import connect, resolver_for
from segwise.warehouse.profiles import ConnectionProfile, find_profiles_dir, load_profile

__all__ = [
    "ConnectionProfile",
    "Warehouse",
    "WarehouseError",
    "connect",
    "find_profiles_dir",
    "load_profile",
    "resolver_for",
]
