"""Run every benchmark module (``bench/bench_*.py``), or the ones named on the command line.

Each module's ``main()`` prints its own results: ratios measured in this one run
against a baseline measured in the same run, never against a stored number.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(p.stem for p in here.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name} ==", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
