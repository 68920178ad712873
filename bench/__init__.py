"""gradviz benchmarks (PERF.md): ``python -m bench [--quick] [--only B1,B9] [--json out.json]``.

Benchmarks are not tests: nothing here asserts a time. See ``bench/harness.py``
for the module contract and ``docs/performance.md`` for the latest figures.
"""
