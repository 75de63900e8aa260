from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.postgres import throwaway_postgres

REQUIRE_ENGINES = os.environ.get("SEGWISE_REQUIRE_ENGINES") == "1"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A PostgreSQL DSN: SEGWISE_PG_DSN, or a server this session starts and stops."""
    if os.environ.get("SEGWISE_PG_DSN"):
        yield os.environ["SEGWISE_PG_DSN"]
        return
    try:
        server = throwaway_postgres()
        dsn = server.__enter__()
    except Exception as exc:  # no binaries, not permitted, ...
        if REQUIRE_ENGINES:
            raise
        pytest.skip(f"PostgreSQL unavailable on this machine: {exc}")
    try:
        yield dsn
    finally:
        server.__exit__(None, None, None)


def _hypothesis_profiles() -> None:
    from hypothesis import settings

    settings.register_profile("dev", max_examples=60)
    settings.register_profile("ci", max_examples=300)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_hypothesis_profiles()


def _cheap_behavior_flag_source() -> None:
    """dbt-common names each adapter behavior flag's source with inspect.stack(), which reads
    the source of every frame on the stack; under pytest, xdist and hypothesis that is most of
    the time of every dbt invocation, and it grows as a worker runs hundreds of them. The
    source is only a label in an event: take the first caller's module name from the frames."""
    import sys

    try:
        from dbt_common import behavior_flags
    except ImportError:
        return

    def default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if name and name != behavior_flags.__name__:
                return str(name)
            frame = frame.f_back  # type: ignore[assignment]
        return "Unknown"

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(default_source)  # type: ignore[method-assign]


_cheap_behavior_flag_source()


def _emulator(name: str) -> Iterator[int]:
    from tests.support import servers

    try:
        server = getattr(servers, name)()
        port = server.__enter__()
    except Exception as exc:
        if REQUIRE_ENGINES:
            raise
        pytest.skip(f"{name} unavailable on this machine: {exc}")
    try:
        yield port
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def fakesnow_port() -> Iterator[int]:
    """A fakesnow server (Snowflake's protocol on DuckDB) for this session."""
    yield from _emulator("fakesnow")


@pytest.fixture(scope="session")
def bigquery_port() -> Iterator[int]:
    """A bqemulator server (BigQuery's REST API on DuckDB) for this session."""
    yield from _emulator("bqemulator")
