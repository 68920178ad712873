"""``python -m bench``: run every ``bench/b*.py`` module, print a table, write JSON.

The benchmarks run in a child process whose environment pins BLAS and torch to
``--threads`` threads (1 by default) and drops ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` (set on some machines for old OpenBLAS builds; they slow a
current numpy). The parent's environment, and so tests and CI, are untouched.
"""
import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = "GRADVIZ_BENCH_CHILD"
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse(argv):
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short runs (< 2 minutes overall)")
    p.add_argument("--only", default="", help="comma-separated ids, e.g. B1,B9")
    p.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"),
                   help="where to write the results (default bench/results/latest.json)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    p.add_argument("--keep-env", action="store_true",
                   help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE as they are")
    return p.parse_args(argv)


def discover(only):
    """``[(id, module name)]`` of the benchmark modules, in id order."""
    found = []
    for info in pkgutil.iter_modules([HERE]):
        name = info.name
        if name.startswith("b") and name[1:2].isdigit():
            bid = "B" + name[1:].split("_")[0]
            if not only or bid in only:
                found.append((bid, name))
    return sorted(found, key=lambda x: (int(x[0][1:]), x[1]))


def run_one(bid, modname, quick):
    """Import and run one module; failures become a ``skipped`` result."""
    t0 = time.perf_counter()
    try:
        mod = importlib.import_module(f"bench.{modname}")
        res = mod.run(quick=quick)
        if not isinstance(res, dict):
            raise TypeError(f"run() returned {type(res).__name__}, not dict")
        res.setdefault("id", bid)
    except Exception as exc:  # noqa: BLE001 - a broken peer module never stops the others
        res = {"id": bid, "module": modname, "skipped": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc(limit=3)}
    res["module"] = modname
    res["seconds"] = round(time.perf_counter() - t0, 2)
    return res


def fmt(x):
    """A number in 4 significant figures."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return f"{x:.4g}"
    return str(x)


def table(results):
    """The printed report."""
    lines = []
    for res in results:
        head = f"{res['id']} {res.get('title', res['module'])}  ({res['seconds']} s)"
        lines.append(head)
        if "skipped" in res:
            lines.append(f"   skipped: {res['skipped']}")
            continue
        rows = res.get("rows")
        if rows is None:  # a module that reports flat figures
            rows = [{"name": k, "value": v} for k, v in res.items()
                    if k not in ("id", "module", "seconds", "title", "notes")
                    and isinstance(v, (int, float, str, bool))]
        for r in rows:
            if "name" not in r:  # a row of free-form figures
                lines.append("   " + "  ".join(f"{k} {fmt(v)}" for k, v in r.items()
                                               if not isinstance(v, (dict, list))))
                continue
            peers = "  ".join(f"{k} {fmt(v)}" for k, v in r.get("peers", {}).items())
            ratios = "  ".join(f"{fmt(v)}x {k}" for k, v in r.get("ratios", {}).items())
            met = r.get("met")
            mark = "" if met is None else ("  [met]" if met else "  [MISSED]")
            lines.append(f"   {r['name']:<34} gradviz {fmt(r.get('value'))} {r.get('unit', '')}"
                         f"{'  | ' + peers if peers else ''}{'  | ' + ratios if ratios else ''}"
                         f"{'  target ' + r['target'] if r.get('target') else ''}{mark}")
        for note in res.get("notes", []):
            lines.append(f"   note: {note}")
    return "\n".join(lines)


def child(args):
    """Run the benchmarks in this (already configured) process."""
    from bench.harness import blas_info, thread_note
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    mods = discover(only)
    env = {"python": sys.version.split()[0], "platform": platform.platform(),
           "cpus": os.cpu_count(), "threads": thread_note(), "blas": blas_info(),
           "unset": os.environ.get("GRADVIZ_BENCH_UNSET", ""), "quick": args.quick}
    print(f"gradviz benchmarks: {env['threads']} (single-thread mode: "
          f"{'yes' if args.threads == 1 else 'no'}); BLAS: {env['blas']}", flush=True)
    if env["unset"]:
        print(f"environment: unset {env['unset']} for this run (tests and CI keep them)")
    results = []
    for bid, modname in mods:
        print(f"... {bid} ({modname})", flush=True)
        results.append(run_one(bid, modname, args.quick))
    out = {"env": env, "results": results, "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = args.json
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, default=str)
    print(table(results))
    print(f"wrote {path}")
    return 0


def main(argv=None):
    """Entry point: re-run in a child with the benchmark environment, or be that child."""
    args = parse(sys.argv[1:] if argv is None else argv)
    if os.environ.get(CHILD):
        return child(args)
    env = dict(os.environ)
    env[CHILD] = "1"
    removed = []
    if not args.keep_env:
        for k in UNSET:
            if env.pop(k, None) is not None:
                removed.append(k)
    env["GRADVIZ_BENCH_UNSET"] = ",".join(removed)
    n = str(args.threads)
    env.update(OMP_NUM_THREADS=n, OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    root = os.path.dirname(HERE)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    argv = sys.argv[1:] if argv is None else argv
    return subprocess.call([sys.executable, "-m", "bench", *argv], env=env, cwd=root)


if __name__ == "__main__":
    sys.exit(main())
