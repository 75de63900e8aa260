"""Property tests split into shards: separate test items sharing the profile's example budget,
so pytest-xdist can spread one long property over both cores instead of ending on it alone."""

from __future__ import annotations

from typing import Any

from hypothesis import settings


def sharded(shards: int, **kwargs: Any) -> settings:
    """Settings for one of `shards` items that together run the profile's max_examples."""
    return settings(max_examples=-(-settings.default.max_examples // shards), **kwargs)
