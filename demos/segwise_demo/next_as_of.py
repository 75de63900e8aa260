"""Print the T for the next demo run: the time the latest batch of events was loaded up to.

python -m segwise_demo.next_as_of --data data
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from segwise_demo.generate import read_params
from segwise_demo.timeline import format_instant


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="T of the next demo run")
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args(argv)
    _params, _next_batch, loaded_until = read_params(args.data)
    print(format_instant(loaded_until))


if __name__ == "__main__":
    main()
