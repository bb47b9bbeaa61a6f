"""Benchmarks, run with ``make bench``. Each ``bench/bench_*.py`` has a ``main()``."""
