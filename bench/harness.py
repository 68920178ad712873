"""Timing helpers shared by every benchmark module (PERF.md's rules in code).

Each benchmark module ``bench/bN_name.py`` exposes ``run(quick=False) -> dict``::

    {"id": "B1", "title": "...", "rows": [row(...), ...], "notes": ["..."]}

where each row comes from :func:`row`: a measured value of gradviz (``value``,
in ``unit``), the same quantity of each peer measured in the same run
(``peers``), the ratios gradviz / peer (``ratios``, computed here), the target
text and whether it was met. The harness prints and saves these dicts as they
are; extra keys are kept.

Measuring: :func:`alternate` runs the competitors A B A B ... after a warm-up,
each sample a ``timeit``-style inner loop of ``number`` calls with the garbage
collector paused, and :func:`median` summarises the at least 5 samples.
"""
import gc
import os
import statistics
import time

MIN_REPEATS = 5


def median(xs):
    """Median of a list of samples."""
    return statistics.median(xs)


def time_loop(fn, number, clock=time.perf_counter):
    """Seconds per call of ``fn()`` over ``number`` back-to-back calls (GC paused);
    ``clock=time.thread_time`` counts only this thread's CPU time (what a benchmark of
    "cost on the computing thread" wants on a machine shared with other processes)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        t0 = clock()
        for _ in range(number):
            fn()
        return (clock() - t0) / number
    finally:
        if was:
            gc.enable()


def autorange(fn, target_s=0.02, max_number=1_000_000):
    """How many calls of ``fn`` fill about ``target_s`` seconds (at least 1)."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 5 or number >= max_number:
            break
        number *= 10
    return max(1, min(max_number, int(number * target_s / max(dt, 1e-9))))


def alternate(fns, repeats=MIN_REPEATS, target_s=0.02, number=None, setup=None,
              clock=time.perf_counter):
    """Seconds per call of each ``fns[name]``, sampled in turns A B A B ... ``repeats`` times.

    Every function is warmed up first; ``number`` (a dict or int) overrides the inner
    loop count found by :func:`autorange`; ``setup(name)`` runs untimed before each sample;
    ``clock`` is passed to :func:`time_loop`. Returns ``{name: [seconds per call, ...]}``.
    """
    repeats = max(MIN_REPEATS, repeats)
    counts = {}
    for name, fn in fns.items():
        if setup is not None:
            setup(name)
        fn()  # warm-up: first-call costs (imports, caches, BLAS buffers) stay out
        if isinstance(number, dict):
            counts[name] = number[name]
        elif number is not None:
            counts[name] = number
        else:
            counts[name] = autorange(fn, target_s)
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if setup is not None:
                setup(name)
            samples[name].append(time_loop(fn, counts[name], clock))
    return samples


def row(name, value, unit, peers=None, target=None, met=None, lower_is_better=True, **extra):
    """One result row: gradviz's median ``value`` and each peer's, with ratios gradviz/peer."""
    peers = dict(peers or {})
    ratios = {}
    for k, v in peers.items():
        if v:
            ratios[k] = value / v
    out = {"name": name, "value": value, "unit": unit, "peers": peers, "ratios": ratios,
           "lower_is_better": lower_is_better, "target": target, "met": met}
    out.update(extra)
    return out


def blas_info():
    """Which BLAS numpy calls and with how many threads (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return "; ".join(f"{p.get('internal_api')} {p.get('version')} "
                             f"{p.get('architecture')} threads={p.get('num_threads')}"
                             for p in pools)
    except ImportError:
        pass
    try:
        import numpy as np
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        simd = cfg.get("SIMD Extensions", {}).get("found", [])
        return (f"{blas.get('name')} {blas.get('version')} (numpy build config; install "
                f"threadpoolctl to see the kernel that runs); SIMD {','.join(simd)}")
    except Exception as exc:  # noqa: BLE001 - informational only
        return f"unknown ({exc})"


def thread_note():
    """The thread settings this process runs with, for the report."""
    keys = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in keys)


def torch_single_thread():
    """Import torch limited to one thread, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    return torch
